"""A line's estimated start and finish: from payment or start, the service's promise and speed, the remains; and
how the tracking page words it in English and German (Berlin time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import i18n
from app.orders.eta import LineEta, eta_texts, line_eta
from app.orders.states import FINAL_LINE_STATES, LineStatus

PAID = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def eta(status: LineStatus = LineStatus.QUEUED, **facts: object) -> LineEta | None:
    values: dict[str, object] = {
        "quantity": 2000,
        "remains": None,
        "paid_at": PAID,
        "dispatched_at": None,
        "start_hours": 2,
        "speed_per_day": 1000,
        "now": PAID + timedelta(minutes=30),
    }
    values.update(facts)
    return line_eta(status=status, **values)  # type: ignore[arg-type]


def words(estimate: LineEta | None, now: datetime, locale: str = "en") -> list[str]:
    assert estimate is not None
    return [text.render(i18n.translations(locale).gettext) for text in eta_texts(estimate, now, locale)]


@pytest.mark.parametrize("status", sorted(FINAL_LINE_STATES))
def test_a_final_line_has_no_estimate(status: LineStatus):
    assert eta(status) is None


def test_an_unpaid_line_promises_a_start_after_payment_without_dates():
    estimate = eta(LineStatus.AWAITING_PAYMENT, paid_at=None)

    assert estimate == LineEta(start_within_hours=2, starts_by=None, finishes_around=None, late=False)
    assert words(estimate, PAID) == ["Starts within 2 h of payment"]
    assert words(estimate, PAID, "de") == ["Start innerhalb von 2 Std. nach Zahlungseingang"]


def test_a_queued_line_starts_by_payment_plus_the_promise_and_finishes_after_quantity_over_speed():
    now = PAID + timedelta(minutes=30)

    estimate = eta(now=now)

    assert estimate is not None and not estimate.late
    assert estimate.starts_by == PAID + timedelta(hours=2)
    assert estimate.finishes_around == PAID + timedelta(hours=2, days=2)
    assert words(estimate, now) == ["Starts within 2 h (by 12:00)", "Expected to finish around 3 Dec"]
    assert words(estimate, now, "de") == [
        "Start innerhalb von 2 Std. (bis 12:00 Uhr)",
        "Voraussichtlich fertig um den 3. Dez.",
    ]


def test_a_start_promised_for_another_day_names_the_day():
    now = PAID + timedelta(minutes=30)

    estimate = eta(now=now, start_hours=24, speed_per_day=100_000)

    assert words(estimate, now) == ["Starts within 24 h (by 2 Dec, 10:00)", "Expected to finish around 2 Dec"]


def test_a_started_line_finishes_when_its_remains_are_delivered_at_the_service_speed():
    started = PAID + timedelta(hours=1)
    now = started + timedelta(hours=6)

    estimate = eta(LineStatus.IN_PROGRESS, dispatched_at=started, remains=250, now=now)

    assert estimate == LineEta(
        start_within_hours=None, starts_by=None, finishes_around=now + timedelta(hours=6), late=False
    )
    assert words(estimate, now) == ["Expected to finish today around 23:00"]  # 16:00 UTC + 6 h, Berlin, full hour
    assert words(estimate, now, "de") == ["Voraussichtlich heute gegen 23:00 Uhr fertig"]


def test_a_started_line_without_a_report_yet_counts_the_whole_quantity_as_remaining():
    started = PAID + timedelta(hours=1)

    estimate = eta(LineStatus.DISPATCHED, dispatched_at=started, now=started)

    assert estimate is not None and estimate.finishes_around == started + timedelta(days=2)


def test_a_start_past_its_promise_is_said_kindly_and_the_finish_moves_with_it():
    now = PAID + timedelta(hours=5)

    estimate = eta(LineStatus.ON_HOLD, now=now)

    assert estimate is not None and estimate.late
    assert estimate.finishes_around == now + timedelta(days=2)
    assert words(estimate, now) == [
        "Starting shortly — it is taking a little longer than usual",
        "Expected to finish around 3 Dec",
    ]


def test_a_line_past_its_planned_finish_is_late_but_never_finishes_in_the_past():
    started = PAID + timedelta(hours=1)
    now = started + timedelta(days=3)  # planned: two days

    estimate = eta(LineStatus.IN_PROGRESS, dispatched_at=started, remains=500, now=now)

    assert estimate is not None and estimate.late
    assert estimate.finishes_around == now + timedelta(hours=12)
    assert words(estimate, now)[0] == "Taking a little longer than planned — delivery continues"
    for text in words(estimate, now) + words(estimate, now, "de"):
        assert "overdue" not in text.lower() and "überfällig" not in text.lower()


def test_remains_outside_the_quantity_are_clamped():
    started = PAID + timedelta(hours=1)

    above = eta(LineStatus.IN_PROGRESS, dispatched_at=started, remains=9999, now=started)
    below = eta(LineStatus.IN_PROGRESS, dispatched_at=started, remains=-5, now=started)

    assert above is not None and above.finishes_around == started + timedelta(days=2)
    assert below is not None and below.finishes_around == started
