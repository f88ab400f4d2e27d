"""Human-friendly order numbers, ``SMP-2026-000123``: year of creation (Berlin) + a never-reused sequence."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
ORDER_NUMBER = re.compile(r"^SMP-(\d{4})-(\d{6,})$")


def format_order_number(year: int, sequence_value: int) -> str:
    if sequence_value < 1:
        raise ValueError("order sequence values start at 1")
    return f"SMP-{year:04d}-{sequence_value:06d}"


def order_number_year(now: datetime) -> int:
    return now.astimezone(BERLIN).year


def looks_like_order_number(text: str) -> bool:
    return ORDER_NUMBER.match(text.strip().upper()) is not None
