"""``smplat seed --synthetic``: a history whose reports and books agree with plain SQL sums; bad input is refused."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.uow import utc_now
from reports.catalog import REPORTS
from reports.periods import DateRange, berlin_today
from reports.revenue import Selection
from tests import factories
from tests.integration.system.test_cli import smplat

PAID = "SELECT count(*), sum(net), sum(tax), sum(gross) FROM orders WHERE paid_at IS NOT NULL"
REFUNDED = """
SELECT sum(r.amount), sum(round(r.amount * o.net / nullif(o.gross, 0), 2))
FROM refund r JOIN payment p ON p.id = r.payment_id JOIN orders o ON o.id = p.order_id WHERE r.status = 'succeeded'
"""
BOOKS = "SELECT kind, count(*), sum(gross) FROM invoice GROUP BY kind"
NUMBERS = """
SELECT split_part(number, '-', 1), split_part(number, '-', 2), count(*), max(split_part(number, '-', 3)::int)
FROM invoice GROUP BY 1, 2
"""


async def _one(session: AsyncSession, query: str) -> tuple[object, ...]:
    return tuple((await session.execute(sa.text(query))).one())


async def test_the_revenue_report_of_a_synthetic_history_equals_the_sql_sums(
    clean_db: str, session: AsyncSession
) -> None:
    result = smplat("seed", "--synthetic", "--orders", "2000", database_url=clean_db)
    assert result.returncode == 0, result.stderr
    assert "rows/s" in result.stdout

    today = berlin_today(utc_now())
    frame = await REPORTS["revenue"].build(session, Selection(DateRange(today - timedelta(days=800), today)), str)
    totals = frame.filter(pl.col("currency") == "EUR").select(
        "orders", "net", "vat", "gross", "refunds_gross", "refunds_net"
    )
    orders, net, vat, gross, refunds_gross, refunds_net = totals.sum().row(0)
    paid = await _one(session, PAID)
    assert paid[0] > 1500  # most of the 2000 orders were paid
    assert (orders, net, vat, gross) == paid
    assert (refunds_gross, refunds_net) == await _one(session, REFUNDED)
    assert refunds_gross > 0

    books = {kind: (count, total) for kind, count, total in (await session.execute(sa.text(BOOKS))).all()}
    assert books["invoice"] == (paid[0], paid[3])  # one invoice per paid order, for its gross
    assert books["credit_note"][1] == -refunds_gross
    for series, year, count, highest in (await session.execute(sa.text(NUMBERS))).all():
        assert count == highest, f"{series}-{year} has gaps"
    assert await session.scalar(sa.text("SELECT count(*) FROM invoice WHERE pdf IS NOT NULL")) == 0
    assert await session.scalar(sa.text("SELECT count(*) FROM funnel_event")) > 0
    assert await session.scalar(sa.text("SELECT count(*) FROM orders WHERE subscription_id IS NOT NULL")) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--synthetic", "--orders", "0"), "Invalid value for '--orders'"),
        (("--synthetic", "--orders", "many"), "Invalid value for '--orders'"),
        (("--orders", "2000"), "--orders and --force go with --synthetic"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(clean_db: str, args: tuple[str, ...], message: str) -> None:
    result = smplat("seed", *args, database_url=clean_db)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_database_with_real_orders_is_left_alone(clean_db: str, session: AsyncSession) -> None:
    await factories.place_order(session)
    await session.commit()
    result = smplat("seed", "--synthetic", "--orders", "100", database_url=clean_db)
    assert result.returncode != 0
    assert "holds real orders (1)" in result.stderr
    assert "--force" in result.stderr
    assert await session.scalar(sa.text("SELECT count(*) FROM orders")) == 1
