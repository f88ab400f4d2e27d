"""A customer's first payment stays the earliest payment of their orders, however the orders change."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import Customer
from app.orders.models import Order
from tests import factories
from tests.integration.reports.conftest import berlin

AFRESH = "SELECT customer_id, min(paid_at) FROM orders WHERE paid_at IS NOT NULL GROUP BY 1"


async def _kept(session: AsyncSession) -> dict[int, object]:
    rows = await session.execute(
        sa.select(Customer.id, Customer.first_paid_at).where(Customer.first_paid_at.is_not(None))
    )
    return dict(rows.tuples().all())


async def _afresh(session: AsyncSession) -> dict[int, object]:
    return dict((await session.execute(sa.text(AFRESH))).tuples().all())


async def test_first_paid_follows_payments_backdating_unpaying_and_moves(session: AsyncSession) -> None:
    service = await factories.service(session, price="10.0000")
    ann, bob = await factories.customer(session), await factories.customer(session)
    link = "https://www.instagram.com/p/first/"
    first = await factories.paid_order(session, buyer=ann, items=[(service, 1000, link)])
    second = await factories.paid_order(session, buyer=ann, items=[(service, 1000, link)])
    unpaid = await factories.place_order(session, buyer=bob, items=[(service, 1000, link)])
    await session.commit()
    assert set(await _kept(session)) == {ann.id}
    assert await _kept(session) == await _afresh(session)
    await session.execute(sa.update(Order).where(Order.id == second.id).values(paid_at=berlin(2025, 1, 2, 3)))
    await session.execute(sa.update(Order).where(Order.id == unpaid.order.id).values(paid_at=berlin(2025, 6, 1, 12)))
    await session.commit()
    assert (await _kept(session))[ann.id] == berlin(2025, 1, 2, 3)
    assert await _kept(session) == await _afresh(session)
    await session.execute(sa.update(Order).where(Order.id == second.id).values(customer_id=bob.id))
    await session.execute(sa.update(Order).where(Order.id == first.id).values(paid_at=None))
    await session.commit()
    assert set(await _kept(session)) == {bob.id}
    assert (await _kept(session))[bob.id] == berlin(2025, 1, 2, 3)
    assert await _kept(session) == await _afresh(session)
