"""Payment commands: a checkout started, paid, failed or expired — whoever tells us (webhook, success page, job).

Every processor answer arrives here as a gateway value (``app/payments/gateway.py``), never as the processor's
own objects. The commands are idempotent: Stripe delivers events at least once and out of order, and the success
page asks too, so each command reads the payment row under lock and only moves it forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.actors import Actor
from app.analytics import funnel
from app.errors import DomainError, NotFound
from app.fulfillment.queueing import dispatch_with_write
from app.i18n import N_, Message
from app.invoicing.commands import PaymentFacts, issue_paid_invoice, with_issue_facts
from app.orders import commands as order_commands
from app.orders.event_notes import Amount
from app.orders.lifecycle import Extend, lock_orders, lock_orders_with, record_event
from app.orders.models import EventKind, Order
from app.orders.states import OrderStatus
from app.payments.follow_ups import with_payment_write
from app.payments.gateway import CheckoutSession
from app.payments.models import Payment, PaymentMethod, PaymentRecordStatus
from app.states import label as state_label
from app.uow import UnitOfWork


@dataclass(frozen=True)
class PaymentOutcome:
    """What a payment command found and did: the order, its payment row, and whether the order became paid."""

    order: Order
    payment: Payment
    newly_paid: bool


def order_id_of(session: CheckoutSession) -> int | None:
    """Our order id as the checkout carries it (metadata first, then the client reference); None if absent."""
    for raw in (session.metadata.get("order_id"), session.reference):
        if raw and raw.isdigit():
            return int(raw)
    return None


async def _locked_order_of(
    uow: UnitOfWork, session: CheckoutSession, extend: Extend | None = None
) -> tuple[Order, Sequence[Any]] | None:
    """The checkout's order, locked with its lines, and the values of the columns ``extend`` adds to the lock
    (``lock_orders_with``); None when the checkout names no order of ours.

    Paying or closing an order changes statuses only: its customer and the lines' services are not loaded."""
    order_id = order_id_of(session)
    if order_id is None:
        return None
    try:
        (locked,) = await lock_orders_with(uow, [order_id], extend, related=False)
    except NotFound:
        return None
    return locked


_PAYMENTS = Payment.__table__
_PAYMENT_COLUMNS = ", ".join(column.name for column in _PAYMENTS.c)
# One statement, textual so that it is compiled once (SQLAlchemy's ON CONFLICT constructs are compiled on every
# execution): the row is found and row-locked, or else inserted. A concurrent first insert of the same session
# makes the insert's ON CONFLICT DO UPDATE wait for it, then lock the row it meets. The usual case, a row the
# checkout made, is locked without the no-op update that would write a new version of it.
_PAYMENT_OF_SESSION = sa.select(Payment).from_statement(
    sa.text(
        f"WITH found AS (SELECT {_PAYMENT_COLUMNS} FROM payment WHERE stripe_checkout_session_id = :session_id"  # noqa: S608 - our columns
        " FOR UPDATE), added AS (INSERT INTO payment (order_id, method, status, stripe_checkout_session_id, amount,"
        " currency, created_at, updated_at) SELECT :order_id, :method, :status, :session_id, :amount, :currency,"
        " :now, :now WHERE NOT EXISTS (SELECT FROM found) ON CONFLICT (stripe_checkout_session_id)"
        " DO UPDATE SET stripe_checkout_session_id = excluded.stripe_checkout_session_id"
        f" RETURNING {_PAYMENT_COLUMNS}) SELECT * FROM found UNION ALL SELECT * FROM added"
    )
    .bindparams(
        sa.bindparam("method", type_=_PAYMENTS.c.method.type),
        sa.bindparam("status", type_=_PAYMENTS.c.status.type),
        sa.bindparam("amount", type_=_PAYMENTS.c.amount.type),
        sa.bindparam("now", type_=_PAYMENTS.c.created_at.type),
        sa.bindparam("session_id", type_=_PAYMENTS.c.stripe_checkout_session_id.type),
    )
    .columns(*_PAYMENTS.c)
)
_REFRESH = {"populate_existing": True}


async def _payment_for(uow: UnitOfWork, order: Order, session: CheckoutSession, method: PaymentMethod) -> Payment:
    """The payment row of this checkout session, created if this is the first we hear of it; row-locked."""
    params = {
        "order_id": order.id,
        "method": method,
        "status": PaymentRecordStatus.PENDING,
        "session_id": session.id,
        "amount": session.amount_total,
        "currency": session.currency,
        "now": uow.now(),
    }
    payment: Payment = (await uow.session.scalars(_PAYMENT_OF_SESSION, params, execution_options=_REFRESH)).one()
    if payment.order_id != order.id:
        raise DomainError(N_("This payment belongs to another order"))
    return payment


async def record_checkout(
    uow: UnitOfWork, *, order_id: int, session: CheckoutSession, actor: Actor, method: PaymentMethod
) -> Payment:
    """A checkout session was opened for an order awaiting payment: remember it as a pending payment."""
    (order,) = await lock_orders(uow, [order_id])
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise DomainError(
            N_("Order %(number)s is %(state)s and takes no payment"),
            number=order.number,
            state=state_label(order.status),
        )
    payment = await _payment_for(uow, order, session, method)
    record_event(
        uow,
        order,
        EventKind.NOTE,
        actor,
        note=Message(N_("checkout started (%(amount)s)"), {"amount": Amount(session.amount_total, session.currency)}),
    )
    uow.audit(actor, "start-checkout", "payment", payment.id, details={"order": order.number, "session": session.id})
    await uow.flush()
    return payment


async def fulfill_checkout(
    uow: UnitOfWork, *, session: CheckoutSession, actor: Actor, method: PaymentMethod = PaymentMethod.STRIPE
) -> PaymentOutcome | None:
    """The processor says how a checkout ended; a paid one pays its order, once, however often we are told.

    Returns None when the session names no order of ours (another system's checkout on the same account).
    A payment that does not match its order (amount, currency) or arrives for an order that no longer waits
    (expired, canceled, paid by another session) is recorded as received and flagged in the order's timeline
    for staff to refund or reinstate; it never pays the order silently.
    """
    locked = await _locked_order_of(uow, session, with_issue_facts)
    if locked is None:
        return None
    order, facts = locked
    payment = await _payment_for(uow, order, session, method)
    if session.payment_status != "paid" or payment.status == PaymentRecordStatus.SUCCEEDED:
        return PaymentOutcome(order, payment, newly_paid=False)
    uow.track(payment)
    payment.status = PaymentRecordStatus.SUCCEEDED
    payment.amount = session.amount_total
    payment.currency = session.currency
    payment.paid_at = uow.now()
    payment.stripe_payment_intent_id = session.payment_intent_id
    problem = _mismatch(order, session)
    if problem is not None:
        record_event(
            uow,
            order,
            EventKind.NOTE,
            actor,
            note=f"payment received but not applied: {problem}; refund it or settle it by hand",
            data={"session": session.id, "amount": str(session.amount_total), "currency": session.currency},
        )
        uow.audit_changes(actor, "payment-needs-review", details={"problem": problem, "session": session.id})
        await uow.flush()
        return PaymentOutcome(order, payment, newly_paid=False)
    order_commands.apply_payment(
        uow, order, actor, note=Message(N_("paid by %(method)s checkout"), {"method": method.value})
    )
    uow.audit_changes(actor, "receive-payment", details={"session": session.id})
    paid_with = [
        dispatch_with_write(line.id for line in order.lines),
        funnel.paid_with_write(uow, order_id=order.id),
        *with_payment_write(uow, order),
    ]
    await uow.write(order, *order.lines, payment, companions=paid_with)
    # Last: the invoice number's row lock is held until commit.
    await issue_paid_invoice(uow, order, actor, PaymentFacts(*facts), payment)
    return PaymentOutcome(order, payment, newly_paid=True)


def _mismatch(order: Order, session: CheckoutSession) -> str | None:
    if order.status != OrderStatus.PENDING_PAYMENT:
        return f"the order is {order.status.value}"
    if session.currency.upper() != order.currency.upper():
        return f"paid in {session.currency}, the order is in {order.currency}"
    if session.amount_total != order.gross:
        return f"paid {session.amount_total}, the order's total is {order.gross}"
    return None


async def close_checkout(
    uow: UnitOfWork, *, session: CheckoutSession, actor: Actor, failed: bool = False
) -> PaymentOutcome | None:
    """A checkout expired (or its delayed payment failed): the payment ends; an order with no other way to be
    paid expires with it. A client who comes back later starts a new order."""
    locked = await _locked_order_of(uow, session)
    if locked is None:
        return None
    order, _ = locked
    payment = await _payment_for(uow, order, session, PaymentMethod.STRIPE)
    if payment.status != PaymentRecordStatus.PENDING:
        return PaymentOutcome(order, payment, newly_paid=False)
    uow.track(payment)
    payment.status = PaymentRecordStatus.FAILED if failed else PaymentRecordStatus.EXPIRED
    others = await uow.session.scalar(
        sa.select(sa.func.count())
        .select_from(Payment)
        .where(
            Payment.order_id == order.id,
            Payment.id != payment.id,
            Payment.status.in_([PaymentRecordStatus.PENDING, PaymentRecordStatus.SUCCEEDED]),
        )
    )
    uow.audit_changes(actor, "fail-payment" if failed else "expire-payment", details={"session": session.id})
    await uow.flush()
    if not others and order.status == OrderStatus.PENDING_PAYMENT:
        reason = "the payment failed" if failed else "the checkout expired unpaid"
        await order_commands.expire_order(uow, order_id=order.id, actor=actor, note=reason)
    return PaymentOutcome(order, payment, newly_paid=False)
