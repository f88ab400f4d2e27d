"""Subscriptions: a monthly plan bought at checkout, renewed by the processor, one order per paid period.

The storefront places the subscription (``incomplete``) with its first order (``app/payments/subscribing.py``);
the checkout in subscription mode pays that order (the first period). Every later invoice the processor collects
becomes one renewal order (source ``renewal``, idempotency key ``renewal:<invoice id>``), paid at once, its line
queued for the provider's "Subscriptions" order type. The processor's subscription events set the status and the
period end.

Delivery is at least once and in any order, so each command locks the subscription row (before any of its orders:
subscription, then orders, then lines) and only moves it forward: ``canceled`` is final, the period end only grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.actors import Actor
from app.customers.models import Customer
from app.errors import NotFound
from app.i18n import N_
from app.invoicing.tax import Buyer, TaxDecision
from app.notifications.subscription_messages import (
    send_subscription_canceled,
    send_subscription_payment_failed,
    send_subscription_renewed,
)
from app.orders import commands as order_commands
from app.orders.commands import place_order
from app.orders.lifecycle import record_event
from app.orders.models import EventKind, Order, OrderSource
from app.orders.placing import LineInput
from app.payments import commands
from app.payments.follow_ups import after_payment
from app.payments.gateway import CheckoutSession, from_minor_units
from app.payments.models import Payment, PaymentMethod, PaymentRecordStatus, Subscription, SubscriptionStatus
from app.uow import UnitOfWork

RENEWAL_REASON = "subscription_cycle"  # the first invoice ("subscription_create") is paid by the checkout

# The processor's subscription statuses as ours; a status not listed changes nothing.
STRIPE_STATUSES: Mapping[str, SubscriptionStatus] = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAUSED,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete_expired": SubscriptionStatus.CANCELED,
}


def renewal_key(invoice_id: str) -> str:
    return f"renewal:{invoice_id}"


async def order_by_key(uow: UnitOfWork, key: str) -> Order | None:
    order: Order | None = (
        (await uow.session.scalars(sa.select(Order).where(Order.idempotency_key == key))).unique().one_or_none()
    )
    return order


# -- finding and locking ------------------------------------------------------------------------------------------


def _digits(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


async def _lock(uow: UnitOfWork, *, stripe_id: str | None, our_id: int | None) -> Subscription | None:
    """Our subscription by the processor's id, else by the id our metadata carries; row-locked."""
    condition = None
    if stripe_id:
        condition = Subscription.stripe_subscription_id == stripe_id
    if our_id is not None:
        by_ours = Subscription.id == our_id
        condition = by_ours if condition is None else sa.or_(condition, by_ours)
    if condition is None:
        return None
    found: Subscription | None = (
        await uow.session.scalars(
            sa.select(Subscription)
            .where(condition)
            .order_by(Subscription.id)
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is not None and stripe_id and found.stripe_subscription_id is None:
        uow.track(found)
        found.stripe_subscription_id = stripe_id
    return found


def _move_period_end(subscription: Subscription, period_end: datetime | None) -> None:
    if period_end is not None and (
        subscription.current_period_end is None or period_end > subscription.current_period_end
    ):
        subscription.current_period_end = period_end


def _set_status(subscription: Subscription, status: SubscriptionStatus, now: datetime) -> None:
    if subscription.status == SubscriptionStatus.CANCELED:
        return  # final: a late "updated" never revives a canceled subscription
    subscription.status = status
    if status == SubscriptionStatus.CANCELED and subscription.canceled_at is None:
        subscription.canceled_at = now


# -- the first period: checkout ------------------------------------------------------------------------------------


async def settle_checkout(
    uow: UnitOfWork, *, session: CheckoutSession, actor: Actor, method: PaymentMethod = PaymentMethod.STRIPE
) -> commands.PaymentOutcome | None:
    """How a checkout ended (webhook or success page); a paid subscription checkout also activates its
    subscription and remembers the processor's subscription and customer ids. Idempotent."""
    if session.mode == "subscription" and session.payment_status == "paid":
        await _activate(uow, session, actor)
    return await commands.fulfill_checkout(uow, session=session, actor=actor, method=method)


async def _activate(uow: UnitOfWork, session: CheckoutSession, actor: Actor) -> None:
    our_id = _digits(session.metadata.get("subscription_id"))
    subscription = await _lock(uow, stripe_id=session.subscription_id, our_id=our_id)
    if subscription is None:
        return
    uow.track(subscription)
    if subscription.status == SubscriptionStatus.INCOMPLETE:
        _set_status(subscription, SubscriptionStatus.ACTIVE, uow.now())
    if session.customer_id:
        taken = await uow.session.scalar(
            sa.select(Customer.id).where(Customer.stripe_customer_id == session.customer_id)
        )
        customer = await uow.session.get(Customer, subscription.customer_id, with_for_update=True)
        if taken is None and customer is not None and customer.stripe_customer_id is None:
            uow.track(customer)
            customer.stripe_customer_id = session.customer_id
    uow.audit_changes(actor, "activate-subscription", details={"session": session.id})
    await uow.flush()


# -- later periods: invoices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFacts:
    """What an invoice event tells us, read from Stripe's current shape (and the older top-level fields)."""

    id: str
    billing_reason: str | None
    subscription_id: str | None
    our_subscription_id: int | None
    payment_intent_id: str | None
    amount_paid: Decimal
    currency: str
    period_end: datetime | None


def invoice_facts(invoice: Mapping[str, Any]) -> InvoiceFacts:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {} if isinstance(parent, Mapping) else {}
    metadata = details.get("metadata") or {}
    subscription = details.get("subscription") or invoice.get("subscription")
    intent = invoice.get("payment_intent")
    for payment in (invoice.get("payments") or {}).get("data") or []:
        paid_by = payment.get("payment") or {}
        if payment.get("status") == "paid" and paid_by.get("payment_intent"):
            intent = paid_by["payment_intent"]
    ends = [
        line["period"]["end"]
        for line in (invoice.get("lines") or {}).get("data") or []
        if isinstance(line.get("period"), Mapping) and isinstance(line["period"].get("end"), int)
    ]
    currency = str(invoice.get("currency") or "eur").upper()
    return InvoiceFacts(
        id=str(invoice["id"]),
        billing_reason=invoice.get("billing_reason"),
        subscription_id=_object_id(subscription),
        our_subscription_id=_digits(metadata.get("subscription_id")),
        payment_intent_id=_object_id(intent),
        amount_paid=from_minor_units(int(invoice.get("amount_paid") or 0), currency),
        currency=currency,
        period_end=datetime.fromtimestamp(max(ends), tz=UTC) if ends else None,
    )


def _object_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


async def renew(uow: UnitOfWork, *, invoice: Mapping[str, Any], actor: Actor) -> Order | None:
    """A paid invoice of a later period: one renewal order, paid, its line queued — once per invoice.

    Returns the renewal order (None for the first invoice, which the checkout pays, or an invoice not ours).
    """
    facts = invoice_facts(invoice)
    subscription = await _lock(uow, stripe_id=facts.subscription_id, our_id=facts.our_subscription_id)
    if subscription is None:
        return None
    uow.track(subscription)
    _move_period_end(subscription, facts.period_end)
    if subscription.status in (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.PAST_DUE):
        _set_status(subscription, SubscriptionStatus.ACTIVE, uow.now())
    uow.audit_changes(actor, "subscription-invoice-paid", details={"invoice": facts.id})
    if facts.billing_reason != RENEWAL_REASON:
        await uow.flush()
        return None
    if existing := await order_by_key(uow, renewal_key(facts.id)):
        return existing
    first = await _first_order(uow, subscription.id)
    line = first.lines[0]
    placed = await place_order(
        uow,
        customer_id=subscription.customer_id,
        items=[
            LineInput(service_id=line.service_id, link=line.link, quantity=line.quantity, unit_price=line.unit_price)
        ],
        source=OrderSource.RENEWAL,
        actor=actor,
        tax=TaxDecision(first.tax_treatment, first.tax_rate),
        buyer=Buyer(country=first.buyer_country, is_business=first.buyer_is_business, vat_id=first.buyer_vat_id),
        idempotency_key=renewal_key(facts.id),
        subscription_id=subscription.id,
    )
    order = placed.order
    now = uow.now()
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.STRIPE,
        status=PaymentRecordStatus.SUCCEEDED,
        stripe_payment_intent_id=facts.payment_intent_id,
        amount=facts.amount_paid,
        currency=facts.currency,
        paid_at=now,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(payment)
    await uow.flush()
    uow.audit(actor, "receive-payment", "payment", payment.id, details={"invoice": facts.id, "order": order.number})
    if facts.amount_paid != order.gross or facts.currency != order.currency.upper():
        record_event(
            uow,
            order,
            EventKind.NOTE,
            actor,
            note=(
                f"renewal paid {facts.amount_paid} {facts.currency}, the order's total is {order.gross} "
                f"{order.currency}; settle it by hand"
            ),
            data={"invoice": facts.id},
        )
        await uow.flush()
        return order
    await order_commands.mark_paid(uow, order_id=order.id, actor=actor, note=f"renewal invoice {facts.id} paid")
    await after_payment(uow, order, actor)
    await send_subscription_renewed(uow, subscription, order)
    return order


async def _first_order(uow: UnitOfWork, subscription_id: int) -> Order:
    first: Order | None = (
        await uow.session.scalars(
            sa.select(Order).where(Order.subscription_id == subscription_id).order_by(Order.id).limit(1)
        )
    ).first()
    if first is None or not first.lines:
        raise NotFound(N_("This subscription has no order to renew."))
    return first


async def invoice_failed(uow: UnitOfWork, *, invoice: Mapping[str, Any], actor: Actor) -> Subscription | None:
    """A renewal was declined: the subscription is past due (no order until an invoice is paid), and the client is
    asked to update the card — on each declined attempt the processor reports (each its own event)."""
    facts = invoice_facts(invoice)
    subscription = await _lock(uow, stripe_id=facts.subscription_id, our_id=facts.our_subscription_id)
    if subscription is None:
        return None
    uow.track(subscription)
    if subscription.status == SubscriptionStatus.CANCELED:
        return subscription
    _set_status(subscription, SubscriptionStatus.PAST_DUE, uow.now())
    uow.audit_changes(actor, "subscription-payment-failed", details={"invoice": facts.id})
    await send_subscription_payment_failed(uow, subscription)
    await uow.flush()
    return subscription


def _period_end(data: Mapping[str, Any]) -> datetime | None:
    ends = [
        item["current_period_end"]
        for item in (data.get("items") or {}).get("data") or []
        if isinstance(item.get("current_period_end"), int)
    ]
    if isinstance(data.get("current_period_end"), int):
        ends.append(data["current_period_end"])
    return datetime.fromtimestamp(max(ends), tz=UTC) if ends else None


async def update_from_stripe(uow: UnitOfWork, *, subscription: Mapping[str, Any], actor: Actor) -> Subscription | None:
    """The processor's subscription changed (``updated`` / ``deleted``): its status and period end, here too."""
    ours = await _lock(
        uow,
        stripe_id=_object_id(subscription.get("id")),
        our_id=_digits((subscription.get("metadata") or {}).get("subscription_id")),
    )
    if ours is None:
        return None
    uow.track(ours)
    was_canceled = ours.status == SubscriptionStatus.CANCELED
    status = STRIPE_STATUSES.get(str(subscription.get("status")))
    if status is not None:
        _set_status(ours, status, uow.now())
        canceled_at = subscription.get("canceled_at") or subscription.get("ended_at")
        if status == SubscriptionStatus.CANCELED and isinstance(canceled_at, int):
            ours.canceled_at = datetime.fromtimestamp(canceled_at, tz=UTC)
    _move_period_end(ours, _period_end(subscription))
    uow.audit_changes(actor, "update-subscription", details={"stripe_status": subscription.get("status")})
    if not was_canceled and ours.status == SubscriptionStatus.CANCELED:
        await send_subscription_canceled(uow, ours)
    await uow.flush()
    return ours


async def subscription_of(session: Any, order: Order) -> Subscription | None:
    """The subscription an order belongs to (for the client's order page)."""
    if order.subscription_id is None:
        return None
    found: Subscription | None = await session.get(Subscription, order.subscription_id)
    return found
