"""Revenue reports on the hand-built history (see conftest): figures worked out by hand, not by the code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.i18n import translations
from reports.datasets import DIMENSIONS
from reports.periods import DateRange, Grouping
from reports.revenue import Selection, revenue, revenue_by
from tests.integration.reports.conftest import History

Q4 = DateRange(date(2026, 10, 1), date(2026, 12, 31))


def _rows(frame, *columns):  # type: ignore[no-untyped-def]
    return [tuple(row[c] for c in columns) for row in frame.iter_rows(named=True)]


async def test_monthly_revenue_counts_sales_on_the_berlin_paid_day_and_refunds_on_their_day(history: History) -> None:
    frame = await revenue(history.session, Selection(Q4, Grouping.MONTH))
    euro = frame.filter(frame["currency"] == "EUR")
    assert _rows(euro, "period", "orders", "net", "vat", "gross") == [
        ("2026-10", 1, Decimal("10.00"), Decimal("1.90"), Decimal("11.90")),
        ("2026-11", 2, Decimal("30.00"), Decimal("5.70"), Decimal("35.70")),
        ("2026-12", 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
    ]
    assert _rows(euro, "refunds_net", "refunds_vat", "refunds_gross", "net_after_refunds") == [
        (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("10.00")),
        (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("30.00")),
        (Decimal("6.00"), Decimal("1.14"), Decimal("7.14"), Decimal("-6.00")),
    ]
    assert _rows(euro, "average_order_value", "previous_net_after_refunds", "change_percent") == [
        (Decimal("11.90"), Decimal("0.00"), None),
        (Decimal("17.85"), Decimal("10.00"), Decimal("200.0")),
        (None, Decimal("30.00"), Decimal("-120.0")),
    ]


async def test_currencies_are_never_added_together(history: History) -> None:
    frame = await revenue(history.session, Selection(Q4, Grouping.QUARTER))
    assert _rows(frame, "period", "currency", "orders", "net") == [
        ("2026-Q4", "EUR", 3, Decimal("40.00")),
        ("2026-Q4", "USD", 1, Decimal("10.00")),
    ]


async def test_previous_period_reaches_back_before_the_range(history: History) -> None:
    november = DateRange(date(2026, 11, 1), date(2026, 11, 30))
    frame = await revenue(history.session, Selection(november, Grouping.MONTH))
    euro = frame.filter(frame["currency"] == "EUR")
    assert _rows(euro, "period", "net", "previous_net_after_refunds") == [
        ("2026-11", Decimal("30.00"), Decimal("10.00"))
    ]


async def test_the_hour_after_midnight_in_berlin_belongs_to_the_new_day(history: History) -> None:
    frame = await revenue(history.session, Selection(DateRange(date(2026, 10, 31), date(2026, 11, 1)), Grouping.DAY))
    euro = frame.filter(frame["currency"] == "EUR")
    assert _rows(euro, "period", "net") == [("2026-10-31", Decimal("10.00")), ("2026-11-01", Decimal("20.00"))]


async def test_revenue_by_category_is_net_of_its_refunds_and_names_order_wide_refunds(history: History) -> None:
    frame = await revenue_by(history.session, Selection(Q4, None), (DIMENSIONS["category"],))
    euro = frame.filter(frame["currency"] == "EUR")
    assert _rows(euro, "category", "lines", "net", "refunds_net", "net_after_refunds", "share_percent") == [
        ("Growth", 2, Decimal("30.00"), Decimal("0.00"), Decimal("30.00"), Decimal("88.2")),
        ("Engagement", 1, Decimal("10.00"), Decimal("5.00"), Decimal("5.00"), Decimal("14.7")),
        ("whole order", 0, Decimal("0.00"), Decimal("1.00"), Decimal("-1.00"), Decimal("-2.9")),
    ]


async def test_dimension_labels_follow_the_language(history: History) -> None:
    german = translations("de").gettext
    frame = await revenue_by(history.session, Selection(Q4, None, locale="de"), (DIMENSIONS["category"],), german)
    assert set(frame["category"].to_list()) == {"Wachstum", "Interaktion", "ganze Bestellung"}


async def test_revenue_by_customer_type_per_month_splits_order_totals(history: History) -> None:
    frame = await revenue_by(history.session, Selection(Q4, Grouping.MONTH), (DIMENSIONS["customer_type"],))
    euro = frame.filter(frame["currency"] == "EUR")
    assert _rows(euro, "period", "customer_type", "net", "vat", "gross", "refunds_net") == [
        ("2026-10", "B2C", Decimal("10.00"), Decimal("1.90"), Decimal("11.90"), Decimal("0.00")),
        ("2026-11", "B2C", Decimal("30.00"), Decimal("5.70"), Decimal("35.70"), Decimal("0.00")),
        ("2026-12", "B2C", Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("6.00")),
    ]
