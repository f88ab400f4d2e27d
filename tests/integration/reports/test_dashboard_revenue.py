"""The dashboard's revenue tiles count as the revenue report does: orders paid, money less refunds, per Berlin day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from app.analytics.dashboard import Revenue, revenues
from reports.periods import DateRange, Grouping
from reports.revenue import Selection, revenue
from tests.integration.reports.conftest import History


async def test_the_revenue_tiles_count_paid_orders_less_refunds_in_euros(history: History) -> None:
    # Since 1 November: B (20.00/23.80) and C (10.00/11.90) paid, less C's and A's refunds (5.00/5.95, 1.00/1.19)
    # of 2 and 3 December; D is in dollars. Since 3 December: only A's refund.
    tiles = await revenues(history.session, [("november", date(2026, 11, 1)), ("third", date(2026, 12, 3))])

    assert tiles == [
        Revenue("november", 2, Decimal("24.00"), Decimal("28.56")),
        Revenue("third", 0, Decimal("-1.00"), Decimal("-1.19")),
    ]


async def test_the_revenue_tiles_equal_the_revenue_report_of_the_same_days(history: History) -> None:
    firsts = [date(2026, 10, 31), date(2026, 11, 15), date(2026, 12, 2)]
    tiles = await revenues(history.session, [(str(first), first) for first in firsts])

    for first, tile in zip(firsts, tiles, strict=True):
        days = await revenue(history.session, Selection(DateRange(first, date(2026, 12, 31)), Grouping.DAY))
        euros = days.filter(pl.col("currency") == "EUR")
        report = (int(euros["orders"].sum()), euros["net_after_refunds"].sum(), euros["gross_after_refunds"].sum())
        assert (tile.orders, tile.net, tile.gross) == report
