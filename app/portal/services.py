"""What the portal shows a logged-in client: only rows of their own customer id, looked up by what the URL names.

Every lookup by number or id takes the customer id too, so another client's number finds nothing (a 404).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from app.catalog.models import Service
from app.customers.models import Customer
from app.invoicing.models import Invoice
from app.invoicing.storage import ensure_pdf
from app.orders.models import Order
from app.payments.models import Subscription

ORDERS_SHOWN = 100


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: Subscription
    service: Service


async def portal_customer(session: AsyncSession, customer_id: int, session_version: int) -> Customer | None:
    """The customer of a portal session, unless it was ended since (logout, erasure)."""
    found: Customer | None = await session.scalar(
        sa.select(Customer).where(
            Customer.id == customer_id,
            Customer.portal_session_version == session_version,
            Customer.erased_at.is_(None),
        )
    )
    return found


async def customer_orders(session: AsyncSession, customer_id: int, limit: int = ORDERS_SHOWN) -> Sequence[Order]:
    """The client's orders, newest first, with their lines."""
    rows = await session.scalars(
        sa.select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return rows.unique().all()


async def customer_order(session: AsyncSession, customer_id: int, number: str) -> Order | None:
    found: Order | None = await session.scalar(
        sa.select(Order).where(Order.customer_id == customer_id, Order.number == number[:20])
    )
    return found


async def customer_documents(session: AsyncSession, customer_id: int) -> Sequence[Invoice]:
    """The client's invoices and credit notes, newest first (their PDFs are not loaded)."""
    rows = await session.scalars(
        sa.select(Invoice)
        .where(Invoice.customer_id == customer_id)
        .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
    )
    return rows.all()


async def customer_document_pdf(session: AsyncSession, customer_id: int, number: str) -> bytes | None:
    """The PDF of the client's invoice or credit note ``number`` (rendered and stored first if its job has not run
    yet, so the session must be able to write); None when it is not theirs."""
    invoice = await session.scalar(
        sa.select(Invoice)
        .where(Invoice.customer_id == customer_id, Invoice.number == number[:20])
        .with_for_update()
        .options(undefer(Invoice.pdf))
    )
    if invoice is None:
        return None
    return await ensure_pdf(session, invoice)


async def customer_subscriptions(session: AsyncSession, customer_id: int) -> list[SubscriptionRow]:
    rows = await session.execute(
        sa.select(Subscription, Service)
        .join(Service, Service.id == Subscription.service_id)
        .where(Subscription.customer_id == customer_id)
        .order_by(Subscription.created_at.desc(), Subscription.id.desc())
    )
    return [SubscriptionRow(subscription, service) for subscription, service in rows.tuples()]


async def customer_subscription(session: AsyncSession, customer_id: int, subscription_id: int) -> Subscription | None:
    found: Subscription | None = await session.scalar(
        sa.select(Subscription).where(Subscription.customer_id == customer_id, Subscription.id == subscription_id)
    )
    return found
