"""Stripe's webhook events, each handled once, in the unit of work that records it.

Delivery is at least once and in any order. The event id is the primary key of ``stripe_event``: the first
delivery inserts the row and acts in the same transaction; a concurrent duplicate waits on that row and then
finds it processed; a delivery whose earlier attempt failed (the row says why, ``processed_at`` empty) is
processed again. Handlers call the payment commands, which only move payments forward, so events that arrive
out of order converge on the same state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.actors import Actor, ActorKind
from app.fulfillment.alerts import AlertTopic, alert_staff
from app.payments import commands, disputes, refunds, subscriptions
from app.payments.gateway import WebhookEvent
from app.payments.models import StripeEvent
from app.payments.stripe_gateway import checkout_session
from app.uow import UnitOfWork

MAX_ERROR_LENGTH = 2000


class Handled(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a type we do not act on: recorded and answered 200


def stripe_actor(event: WebhookEvent) -> Actor:
    return Actor(ActorKind.STRIPE, event.id, f"Stripe {event.type}")


async def _checkout_paid(uow: UnitOfWork, event: WebhookEvent) -> None:
    await subscriptions.settle_checkout(uow, session=checkout_session(event.object), actor=stripe_actor(event))


async def _checkout_expired(uow: UnitOfWork, event: WebhookEvent) -> None:
    await commands.close_checkout(uow, session=checkout_session(event.object), actor=stripe_actor(event))


async def _checkout_failed(uow: UnitOfWork, event: WebhookEvent) -> None:
    await commands.close_checkout(uow, session=checkout_session(event.object), actor=stripe_actor(event), failed=True)


async def _charge_refunded(uow: UnitOfWork, event: WebhookEvent) -> None:
    await refunds.reconcile_charge(uow, charge=event.object, actor=stripe_actor(event))


async def _dispute_created(uow: UnitOfWork, event: WebhookEvent) -> None:
    await disputes.open_dispute(uow, dispute=event.object, actor=stripe_actor(event))


async def _dispute_closed(uow: UnitOfWork, event: WebhookEvent) -> None:
    await disputes.close_dispute(uow, dispute=event.object, actor=stripe_actor(event))


async def _invoice_paid(uow: UnitOfWork, event: WebhookEvent) -> None:
    await subscriptions.renew(uow, invoice=event.object, actor=stripe_actor(event))


async def _invoice_failed(uow: UnitOfWork, event: WebhookEvent) -> None:
    await subscriptions.invoice_failed(uow, invoice=event.object, actor=stripe_actor(event))


async def _subscription_changed(uow: UnitOfWork, event: WebhookEvent) -> None:
    await subscriptions.update_from_stripe(uow, subscription=event.object, actor=stripe_actor(event))


Handler = Callable[[UnitOfWork, WebhookEvent], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    # completed with payment_status "unpaid" (a delayed method) changes nothing until async_payment_succeeded.
    "checkout.session.completed": _checkout_paid,
    "checkout.session.async_payment_succeeded": _checkout_paid,
    "checkout.session.async_payment_failed": _checkout_failed,
    "checkout.session.expired": _checkout_expired,
    # A refund made in the Stripe dashboard, or the echo of ours: reconciled, never counted twice.
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
    # Subscriptions: the first invoice is paid by its checkout; each later paid invoice is one renewal order.
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
}


def _typed(table: sa.FromClause, sql: str, *names: str) -> sa.TextClause:
    """A textual statement whose parameters are bound with their columns' types."""
    return sa.text(sql).bindparams(*(sa.bindparam(name, type_=table.c[name].type) for name in names))


# Textual, so that SQLAlchemy compiles it once: its PostgreSQL ON CONFLICT constructs are compiled anew on every
# execution (they have no cache key), which cost more than the insert itself.
_CLAIM = _typed(
    StripeEvent.__table__,
    "INSERT INTO stripe_event (id, type, payload, processed_at) VALUES (:id, :type, :payload, :processed_at)"
    " ON CONFLICT (id) DO UPDATE SET error = NULL, processed_at = excluded.processed_at"
    " WHERE stripe_event.processed_at IS NULL RETURNING id",
    "payload",
    "processed_at",
)


async def claim(uow: UnitOfWork, event: WebhookEvent) -> bool:
    """Record the event as processed (or take over a failed earlier attempt); False when it was processed already.

    Marked processed in the same statement: the unit of work that handles it commits both or neither, and a
    failure is recorded afterwards, unprocessed, by :func:`record_failure`.
    """
    params = {"id": event.id, "type": event.type, "payload": dict(event.payload), "processed_at": uow.now()}
    return (await uow.session.scalar(_CLAIM, params)) is not None


async def handle_event(uow: UnitOfWork, event: WebhookEvent) -> Handled:
    if not await claim(uow, event):
        return Handled.DUPLICATE
    handler = HANDLERS.get(event.type)
    if handler is not None:
        await handler(uow, event)
    return Handled.PROCESSED if handler is not None else Handled.IGNORED


async def record_failure(uow: UnitOfWork, event: WebhookEvent, error: str) -> None:
    """Keep a failed event (unprocessed, with the reason) for staff, and alert them (one mail per event and hour,
    linking to it); Stripe retries it."""
    await uow.session.execute(
        insert(StripeEvent)
        .values(id=event.id, type=event.type, payload=dict(event.payload), error=error[:MAX_ERROR_LENGTH])
        .on_conflict_do_update(
            index_elements=[StripeEvent.id],
            set_={"error": error[:MAX_ERROR_LENGTH]},
            where=StripeEvent.processed_at.is_(None),
        )
    )
    await alert_staff(
        uow,
        stripe_actor(event),
        AlertTopic.WEBHOOK_FAILED,
        "stripe-event",
        event.id,
        message=f"Stripe event {event.type} ({event.id}) failed: {error}"[:MAX_ERROR_LENGTH],
    )
