"""Everything staff want to see about one customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.orders.models import Order
from app.payments.models import Payment, PaymentRecordStatus, Subscription

RECENT = 25


@dataclass(frozen=True)
class CustomerOverview:
    order_count: int
    lifetime_value: Decimal  # collected gross minus refunds, EUR
    orders: Sequence[Order]
    payments: Sequence[Payment]
    subscriptions: Sequence[Subscription]


async def customer_overview(session: AsyncSession, customer_id: int) -> CustomerOverview:
    order_count = int(
        await session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.customer_id == customer_id)) or 0
    )
    collected = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount - Payment.refunded_amount), 0))
        .join(Order, Order.id == Payment.order_id)
        .where(
            Order.customer_id == customer_id, Payment.status == PaymentRecordStatus.SUCCEEDED, Payment.currency == "EUR"
        )
    )
    orders = (
        (
            await session.scalars(
                sa.select(Order).where(Order.customer_id == customer_id).order_by(Order.id.desc()).limit(RECENT)
            )
        )
        .unique()
        .all()
    )
    payments = (
        await session.scalars(
            sa.select(Payment)
            .join(Order, Order.id == Payment.order_id)
            .where(Order.customer_id == customer_id)
            .order_by(Payment.id.desc())
            .limit(RECENT)
        )
    ).all()
    subscriptions = (
        await session.scalars(
            sa.select(Subscription).where(Subscription.customer_id == customer_id).order_by(Subscription.id.desc())
        )
    ).all()
    return CustomerOverview(
        order_count=order_count,
        lifetime_value=Decimal(collected or 0),
        orders=orders,
        payments=payments,
        subscriptions=subscriptions,
    )
