"""Days and months typed into forms: ``31.01.2026`` and ``10.2026`` as German staff write them, ``2026-01-31`` and
``2026-10`` as date and month pickers send them.

A browser shows ``<input type="date">`` and ``type="month"`` in its own language, not the page's, so German pages
ask for them as text (``dd.mm.yyyy``, ``mm.yyyy``); both spellings are read back wherever one is typed (reports,
exports, list filters, checkout links).
"""

from __future__ import annotations

import re
from datetime import date

ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
GERMAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
GERMAN_MONTH = re.compile(r"^(\d{1,2})\.(\d{4})$")
# The same two spellings for the browser's own check (an HTML ``pattern``).
DAY_PATTERN = r"\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2}"
MONTH_PATTERN = r"\d{1,2}\.\d{4}|\d{4}-\d{2}"


def parse_day_input(raw: str) -> date:
    """The day ``raw`` names (``31.01.2026``, ``1.2.2026`` or ``2026-01-31``); ValueError when it names none."""
    text = raw.strip()
    if match := ISO_DAY.match(text):
        year, month, day = match.groups()
    elif match := GERMAN_DAY.match(text):
        day, month, year = match.groups()
    else:
        raise ValueError(f"not a day: {raw!r}")
    return date(int(year), int(month), int(day))


def format_day_input(day: date, locale: str | None) -> str:
    """A day as a German page's text field shows it (``31.01.2026``), or as a date picker's value (ISO)."""
    return day.strftime("%d.%m.%Y") if locale == "de" else day.isoformat()


def day_input_value(raw: str | date | None, locale: str | None) -> str:
    """What a day field shows: the day in the page's spelling, or what was typed when it names no day (to fix)."""
    if raw is None or raw == "":
        return ""
    if isinstance(raw, date):
        return format_day_input(raw, locale)
    try:
        return format_day_input(parse_day_input(raw), locale)
    except ValueError:
        return raw


def iso_month(raw: str) -> str:
    """The month ``raw`` names (``10.2026``, ``1.2026``, ``2026-10``) as ``YYYY-MM``; ValueError when it names none."""
    text = raw.strip()
    if match := ISO_MONTH.match(text):
        year, month = match.groups()
    elif match := GERMAN_MONTH.match(text):
        month, year = match.groups()
    else:
        raise ValueError(f"not a month: {raw!r}")
    if not 1 <= int(month) <= 12:
        raise ValueError(f"not a month: {raw!r}")
    return f"{year}-{int(month):02d}"


def month_input_value(raw: str | None, locale: str | None) -> str:
    """What a month field shows: ``10.2026`` on German pages, ``2026-10`` for a month picker; what was typed when it
    names no month."""
    if not raw:
        return ""
    try:
        year, month = iso_month(raw).split("-")
    except ValueError:
        return raw
    return f"{month}.{year}" if locale == "de" else f"{year}-{month}"
