"""Everything staff want to see about one customer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import Customer
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


@dataclass(frozen=True)
class OrderFigures:
    """A customer's orders at a glance (the customer list)."""

    orders: int
    spend: dict[str, Decimal]  # currency -> net of the paid orders
    last_order_at: datetime | None


def order_figures_expression() -> sa.ScalarSelect[Any]:
    """For each customer row of a list (``with_expression(Customer.order_figures, …)``): one aggregate over the
    customer's orders, per currency and then as one JSON value; sums travel as text, never as JSON numbers."""
    per_currency = (
        sa.select(
            Order.currency,
            sa.func.count().label("orders"),
            sa.func.max(Order.created_at).label("last_at"),
            sa.func.sum(Order.net).filter(Order.paid_at.is_not(None)).label("spend"),
        )
        .where(Order.customer_id == Customer.id)
        .group_by(Order.currency)
        .correlate(Customer)
        .subquery()
    )
    spend = sa.func.jsonb_object_agg(per_currency.c.currency, sa.cast(per_currency.c.spend, sa.Text))
    return (
        sa.select(
            sa.func.jsonb_build_object(
                "orders",
                sa.func.sum(per_currency.c.orders),
                "last_at",
                sa.func.max(per_currency.c.last_at),
                "spend",
                spend.filter(per_currency.c.spend.is_not(None)),
            )
        )
        .correlate(Customer)
        .scalar_subquery()
    )


def order_figures(loaded: Mapping[str, Any] | None) -> OrderFigures:
    """The figures ``order_figures_expression`` loaded (a customer without orders has none)."""
    data = loaded or {}
    last = data.get("last_at")
    return OrderFigures(
        orders=int(data.get("orders") or 0),
        spend={currency: Decimal(amount) for currency, amount in sorted((data.get("spend") or {}).items())},
        last_order_at=datetime.fromisoformat(last) if last else None,
    )


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
