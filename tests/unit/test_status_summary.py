"""What staff answer "where is my order?": the fulfilment summary and the status text for the client, de and en."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from app import i18n
from app.orders.states import LineStatus
from app.orders.status_summary import client_status_text, fulfilment_summary
from app.orders.tracking import line_progress

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 11:00 in Berlin


def line(position: int, status: LineStatus, quantity: int, remains: int | None = None) -> Any:
    service = SimpleNamespace(
        expected_start_hours=2,
        speed_per_day=1000,
        refill_days=0,
        name=lambda locale: "Instagram-Likes" if locale == "de" else "Instagram likes",
    )
    return SimpleNamespace(
        id=position,
        position=position,
        fulfillment_status=status,
        quantity=quantity,
        remains=remains,
        start_count=None,
        dispatched_at=NOW - timedelta(hours=1),
        finished_at=None,
        link="https://www.instagram.com/p/abc/",
        service=service,
    )


def text_for(lines: list[Any], locale: str) -> str:
    progress = [
        line_progress(
            item,
            paid_at=NOW - timedelta(hours=2),
            refunded=Decimal("0.00"),
            currency="EUR",
            locale=locale,
            latest_refill=None,
            now=NOW,
        )
        for item in lines
    ]
    text = client_status_text("SMP-2026-000042", progress, i18n.translations(locale).gettext, locale)
    return text.replace("\xa0", " ")


def test_the_status_text_for_an_english_client_names_the_order_and_each_line_with_its_estimate():
    lines = [line(1, LineStatus.IN_PROGRESS, 2000, remains=750), line(2, LineStatus.COMPLETED, 500)]
    assert text_for(lines, "en") == (
        "Status of your order SMP-2026-000042:\n"
        "1. Instagram likes × 2,000: In progress — 1,250 of 2,000 delivered (Expected to finish around 1 Dec)\n"
        "2. Instagram likes × 500: Completed"
    )


def test_the_status_text_for_a_german_client_is_german_throughout():
    lines = [line(1, LineStatus.IN_PROGRESS, 2000, remains=750), line(2, LineStatus.NEEDS_REVIEW, 500)]
    text = text_for(lines, "de")
    assert text.splitlines()[0] == "Stand Ihrer Bestellung SMP-2026-000042:"
    assert text.splitlines()[1].startswith("1. Instagram-Likes × 2.000: In Arbeit — 1.250 von 2.000 geliefert (")
    assert "Wir kümmern uns darum" in text.splitlines()[2]
    assert "needs" not in text and "review" not in text  # internal states never reach the client


def test_the_summary_counts_lines_by_state_and_delivered_of_ordered():
    lines = [
        line(1, LineStatus.IN_PROGRESS, 2000, remains=750),
        line(2, LineStatus.COMPLETED, 500),
        line(3, LineStatus.COMPLETED, 100, remains=0),
        line(4, LineStatus.QUEUED, 300),
    ]
    summary = fulfilment_summary(lines)
    assert summary.by_state == [(LineStatus.QUEUED, 1), (LineStatus.IN_PROGRESS, 1), (LineStatus.COMPLETED, 2)]
    assert (summary.delivered, summary.ordered) == (1250 + 500 + 100, 2900)
