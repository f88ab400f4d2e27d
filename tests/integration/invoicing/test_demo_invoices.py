"""The demo data's paid orders come with their invoices, as a real shop's would."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.seed import seed_demo_data
from app.invoicing.models import Invoice, InvoiceKind
from app.orders.models import Order


async def test_every_paid_demo_order_has_exactly_one_invoice(session: AsyncSession):
    await seed_demo_data(session)

    paid = set(await session.scalars(sa.select(Order.id).where(Order.paid_at.is_not(None))))
    invoiced = list(await session.scalars(sa.select(Invoice.order_id).where(Invoice.kind == InvoiceKind.INVOICE)))

    assert paid
    assert sorted(invoiced) == sorted(paid)
