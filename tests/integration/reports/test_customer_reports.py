"""Customer reports on a hand-built history: new against returning customers, and the top customers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import Customer
from app.orders.models import Order
from reports.catalog import REPORTS
from reports.periods import DateRange, Grouping
from reports.revenue import Selection
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
AUTUMN = DateRange(date(2026, 10, 1), date(2026, 11, 30))


async def _paid(session: AsyncSession, buyer: Customer, month: int, day: int) -> Order:
    item = await factories.service(session, price="10.0000")
    order = await factories.paid_order(session, buyer=buyer, items=[(item, 1000, "https://www.instagram.com/p/c/")])
    paid_at = datetime(2026, month, day, 12, tzinfo=BERLIN)
    await session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=paid_at))
    return order


async def _history(session: AsyncSession) -> None:
    """X buys in October and November, Y once in November, Z twice in November (one refunded 5.95 gross)."""
    x = await factories.customer(session, email="x@example.com", name="Xaver")
    y = await factories.customer(session, email="y@example.com", name="Yvonne")
    z = await factories.customer(session, email="z@example.com", name="Zoe")
    await _paid(session, x, 10, 5)
    await _paid(session, x, 11, 5)
    await _paid(session, y, 11, 6)
    await _paid(session, z, 11, 7)
    refunded = await _paid(session, z, 11, 8)
    await factories.succeeded_refund(session, refunded, None, Decimal("5.95"))
    await session.commit()


async def test_new_and_returning_customers_per_month(session: AsyncSession) -> None:
    await _history(session)
    frame = await REPORTS["customers"].build(session, Selection(AUTUMN, Grouping.MONTH), str)
    assert frame.rows() == [
        ("2026-10", 1, 1, 0, Decimal("0.0"), 1, Decimal("10.00")),
        ("2026-11", 3, 2, 1, Decimal("33.3"), 4, Decimal("40.00")),
    ]


async def test_top_customers_rank_by_net_after_refunds(session: AsyncSession) -> None:
    await _history(session)
    frame = await REPORTS["top-customers"].build(session, Selection(AUTUMN, None), str)
    assert frame.select("email", "orders", "net", "refunds_net", "net_after_refunds").rows() == [
        ("x@example.com", 2, Decimal("20.00"), Decimal("0.00"), Decimal("20.00")),
        ("z@example.com", 2, Decimal("20.00"), Decimal("5.00"), Decimal("15.00")),
        ("y@example.com", 1, Decimal("10.00"), Decimal("0.00"), Decimal("10.00")),
    ]
    assert frame.row(0, named=True)["first_paid"] == date(2026, 10, 5)
