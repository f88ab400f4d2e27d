"""The daily revenue totals stay exact: every paid order counted once, on its Berlin day, whatever folds when."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.analytics.models import SalesDay, SalesDayChange
from app.analytics.sales_days import fold_sales_day_changes
from app.db.engine import session_factory
from app.orders.models import Order
from reports.periods import DateRange, Grouping
from reports.revenue import Selection, revenue
from tests import factories
from tests.integration.reports.conftest import History, berlin

Q4 = DateRange(date(2026, 10, 1), date(2026, 12, 31))


async def _euro_months(session: AsyncSession) -> list[tuple[str, int, Decimal, Decimal]]:
    frame = await revenue(session, Selection(Q4, Grouping.MONTH))
    columns = frame.select("period", "currency", "orders", "net", "refunds_net")
    return [(p, n, net, refunds) for p, c, n, net, refunds in columns.rows() if c == "EUR"]


EXPECTED = [
    ("2026-10", 1, Decimal("10.00"), Decimal("0.00")),
    ("2026-11", 2, Decimal("30.00"), Decimal("0.00")),
    ("2026-12", 0, Decimal("0.00"), Decimal("6.00")),
]


async def test_reports_are_the_same_before_and_after_folding(history: History) -> None:
    session = history.session
    assert await session.scalar(sa.select(sa.func.count()).select_from(SalesDayChange)) > 0
    assert await _euro_months(session) == EXPECTED
    await fold_sales_day_changes(session)
    await session.commit()
    assert await session.scalar(sa.select(sa.func.count()).select_from(SalesDayChange)) == 0
    assert await _euro_months(session) == EXPECTED


async def test_a_paid_order_moved_to_another_day_leaves_the_old_day(history: History) -> None:
    session = history.session
    await fold_sales_day_changes(session)
    october_order = await session.scalar(sa.select(Order).where(Order.paid_at == berlin(2026, 10, 31, 23, 30)))
    assert october_order is not None
    await session.execute(sa.update(Order).where(Order.id == october_order.id).values(paid_at=berlin(2026, 12, 1, 10)))
    await session.commit()
    assert await _euro_months(session) == [
        ("2026-10", 0, Decimal("0.00"), Decimal("0.00")),
        ("2026-11", 2, Decimal("30.00"), Decimal("0.00")),
        ("2026-12", 1, Decimal("10.00"), Decimal("6.00")),
    ]


async def test_concurrent_folds_count_every_change_once(engine: AsyncEngine, session: AsyncSession) -> None:
    item = await factories.service(session, price="10.0000")
    for n in range(40):
        order = await factories.paid_order(session, items=[(item, 1000, f"https://www.instagram.com/p/fold{n}/")])
        await session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=berlin(2026, 11, 5, 12)))
    await session.commit()
    sessions = session_factory(engine)

    async def fold() -> None:
        async with sessions() as own, own.begin():
            await fold_sales_day_changes(own)

    await asyncio.gather(*(fold() for _ in range(4)))
    totals = (await session.execute(sa.select(sa.func.sum(SalesDay.orders), sa.func.sum(SalesDay.net)))).one()
    assert totals == (40, Decimal("400.00"))
    assert await session.scalar(sa.select(sa.func.count()).select_from(SalesDayChange)) == 0
