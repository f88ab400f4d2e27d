"""Paying orders the way the processor does, so invoices are issued by the real payment path."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.invoicing.models import Invoice
from app.orders.models import Order
from app.payments import commands
from app.payments.gateway import CheckoutSession
from app.payments.models import Payment, Refund
from app.uow import UnitOfWork

STRIPE = Actor.system("test stripe")


def paid_checkout(order: Order) -> CheckoutSession:
    return CheckoutSession(
        id=f"cs_test_{order.id}",
        url=f"https://checkout.example/{order.id}",
        status="complete",
        payment_status="paid",
        amount_total=order.gross,
        currency=order.currency,
        reference=str(order.id),
        payment_intent_id=f"pi_test_{order.id}",
        customer_id=None,
        subscription_id=None,
        metadata={"order_id": str(order.id)},
    )


async def pay(uow: UnitOfWork, order: Order) -> None:
    await commands.fulfill_checkout(uow, session=paid_checkout(order), actor=STRIPE)


async def requested_refund(session: AsyncSession, order: Order, amount: str) -> Refund:
    """A refund of the order's payment as finance asks for it, before the processor has answered."""
    payment = await session.scalar(sa.select(Payment).where(Payment.order_id == order.id))
    assert payment is not None
    refund = Refund(
        payment_id=payment.id,
        amount=Decimal(amount),
        currency="EUR",
        reason="client cancelled",
        idempotency_key=f"refund-{order.id}",
        requested_by="finance@smplat.example",
    )
    session.add(refund)
    await session.flush()
    return refund


async def invoices_of(session: AsyncSession, order_id: int) -> list[Invoice]:
    rows = await session.scalars(
        sa.select(Invoice).where(Invoice.order_id == order_id).execution_options(populate_existing=True)
    )
    return list(rows.all())
