"""Order commands: every change of an order, its payment status or its lines that a person or system asks for.

Each takes ids and an Actor, runs inside the caller's unit of work (``app/uow.py``), locks what it changes in
ascending id order (orders before lines), checks the transition maps, writes event and audit rows, and flushes.
A batch is one decision: if one record refuses, the whole batch changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.actors import Actor
from app.catalog.models import Service
from app.customers.models import Customer
from app.errors import DomainError, ValidationFailed
from app.fulfillment.decisions import ACTION_STATES, LineAction
from app.fulfillment.queueing import queue_dispatch
from app.i18n import N_, Message
from app.invoicing.tax import Buyer, TaxDecision
from app.notifications.messages import hold_order_confirmation
from app.orders import lifecycle
from app.orders.event_notes import Amount, Note
from app.orders.lifecycle import lock_lines, lock_orders, record_event
from app.orders.models import SOURCE_LABELS, EventKind, Order, OrderLine, OrderSource, order_number_seq
from app.orders.numbers import format_order_number, order_number_year
from app.orders.placing import LineInput, build_line, new_tracking_token
from app.orders.pricing import order_totals
from app.orders.states import (
    ACTIVE_UPSTREAM,
    FINAL_LINE_STATES,
    FINAL_ORDER_STATES,
    ORDER_TRANSITIONS,
    LineStatus,
    OrderStatus,
    PaymentStatus,
    check_transition,
)
from app.payments.models import Payment, PaymentMethod, PaymentRecordStatus
from app.states import label as state_label
from app.uow import UnitOfWork

MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    tracking_token: str | None  # None when an idempotent retry returned an existing order
    created: bool


@dataclass(frozen=True)
class OrderOutcome:
    """What a command did to one order: its number and the status it ended in."""

    number: str
    status: OrderStatus


def _text(value: str, field: str, *, required: Message | str) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed({field: required})
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationFailed({field: Message(N_("at most %(max)s characters"), {"max": MAX_NOTE_LENGTH})})
    return text


# -- placing and paying ------------------------------------------------------------------------------------------


async def place_order(
    uow: UnitOfWork,
    *,
    customer_id: int,
    items: Sequence[LineInput],
    source: OrderSource,
    actor: Actor,
    tax: TaxDecision,
    idempotency_key: str | None = None,
    customer_note: str | None = None,
    checkout_link_id: int | None = None,
    subscription_id: int | None = None,
    buyer: Buyer | None = None,
) -> PlacedOrder:
    """Create an order awaiting payment. With an idempotency key, a repeat returns the first order.

    ``buyer``: the facts ``tax`` was decided on (country, business, VAT ID); the customer's profile if omitted.
    """
    session = uow.session
    if idempotency_key and (existing := await _by_idempotency_key(uow, idempotency_key)):
        return PlacedOrder(existing, None, created=False)
    if not items:
        raise ValidationFailed({"lines": N_("an order needs at least one line")})
    services = {
        service.id: service
        for service in (
            await session.scalars(
                sa.select(Service)
                .where(Service.id.in_({item.service_id for item in items}))
                .options(selectinload(Service.provider_service))
            )
        ).unique()
    }
    errors: dict[str, str | Message] = {}
    lines: list[OrderLine] = []
    for position, item in enumerate(items, start=1):
        service = services.get(item.service_id)
        if service is None:
            errors[f"lines[{position - 1}].service"] = N_("this service does not exist")
            continue
        try:
            lines.append(build_line(service, item, position))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    currencies = {services[item.service_id].currency for item in items}
    if len(currencies) != 1:
        raise ValidationFailed({"lines": N_("all lines of an order must be in one currency")})

    if buyer is None:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise ValidationFailed({"customer": N_("this customer does not exist")})
        buyer = Buyer(
            country=customer.country, is_business=bool(customer.company or customer.vat_id), vat_id=customer.vat_id
        )
    now = uow.now()
    for line in lines:
        line.created_at = line.status_changed_at = now
    totals = order_totals((line.net for line in lines), tax)
    token, token_hash = new_tracking_token()
    sequence_value = int(await session.scalar(sa.select(order_number_seq.next_value())) or 0)
    order = Order(
        number=format_order_number(order_number_year(now), sequence_value),
        created_at=now,
        customer_id=customer_id,
        source=source,
        status=OrderStatus.PENDING_PAYMENT,
        payment_status=PaymentStatus.UNPAID,
        currency=currencies.pop(),
        net=totals.net,
        tax=totals.tax,
        gross=totals.gross,
        tax_rate=tax.rate,
        tax_treatment=tax.treatment,
        buyer_country=buyer.country,
        buyer_is_business=buyer.is_business,
        buyer_vat_id=buyer.vat_id,
        tracking_token_hash=token_hash,
        idempotency_key=idempotency_key,
        customer_note=customer_note,
        checkout_link_id=checkout_link_id,
        subscription_id=subscription_id,
        lines=lines,
    )
    try:
        async with session.begin_nested():
            session.add(order)
            await session.flush()
    except IntegrityError:
        # The same key placed concurrently: the first order wins and this call returns it.
        if idempotency_key and (existing := await _by_idempotency_key(uow, idempotency_key)):
            return PlacedOrder(existing, None, created=False)
        raise
    record_event(
        uow,
        order,
        EventKind.CREATED,
        actor,
        to_state=OrderStatus.PENDING_PAYMENT,
        note=Message(
            N_("%(lines)s line(s), %(gross)s gross, via %(source)s"),
            {
                "lines": len(lines),
                "gross": Amount(order.gross, order.currency),
                "source": Message(SOURCE_LABELS[source]),
            },
        ),
        data={"lines": [{"service": line.service_name, "quantity": line.quantity} for line in lines]},
    )
    uow.audit(
        actor,
        "place-order",
        "order",
        order.id,
        details={"number": order.number, "gross": order.gross, "currency": order.currency, "source": source},
    )
    await hold_order_confirmation(uow, order, token)
    await uow.flush()
    return PlacedOrder(order, token, created=True)


async def _by_idempotency_key(uow: UnitOfWork, key: str) -> Order | None:
    order: Order | None = (
        (await uow.session.scalars(sa.select(Order).where(Order.idempotency_key == key))).unique().one_or_none()
    )
    return order


async def mark_paid(
    uow: UnitOfWork,
    *,
    order_id: int,
    actor: Actor,
    method: PaymentMethod | None = None,
    note: str | None = None,
) -> Order:
    """Payment arrived: order paid, payment status paid, every line queued for dispatch.

    With a ``method`` the payment itself is recorded too (the demo; gateways record theirs in their own command).
    """
    (order,) = await lock_orders(uow, [order_id])
    apply_payment(uow, order, actor, note)
    await queue_dispatch(uow, [line.id for line in order.lines])
    if method is not None:
        uow.session.add(
            Payment(
                order_id=order.id,
                method=method,
                status=PaymentRecordStatus.SUCCEEDED,
                amount=order.gross,
                currency=order.currency,
                paid_at=uow.now(),
            )
        )
    uow.audit_changes(actor, "mark-paid", details={"note": note, "method": method})
    await uow.flush()
    return order


def apply_payment(uow: UnitOfWork, order: Order, actor: Actor, note: Note | None) -> None:
    """The order this unit of work has locked (``lock_orders``) is paid: its status and payment status move to
    paid and its lines to queued. The caller queues their dispatch (``queue_dispatch``, or with its write:
    ``dispatch_with_write``), writes the audit rows and flushes."""
    lifecycle.set_status(uow, order, OrderStatus.PAID, actor, note)
    lifecycle.set_payment_status(uow, order, PaymentStatus.PAID, actor, note)
    for line in order.lines:
        lifecycle.set_line_status(uow, order, line, LineStatus.QUEUED, actor)


async def expire_order(uow: UnitOfWork, *, order_id: int, actor: Actor, note: str | None = None) -> Order:
    """Payment never arrived: the order expires and its lines are canceled."""
    note = note or "payment not completed in time"
    (order,) = await lock_orders(uow, [order_id])
    check_transition(lifecycle.order_subject(order), ORDER_TRANSITIONS, order.status, OrderStatus.EXPIRED)
    for line in order.lines:
        lifecycle.set_line_status(uow, order, line, LineStatus.CANCELED, actor, note=note)
    lifecycle.set_status(uow, order, OrderStatus.EXPIRED, actor, note)
    uow.audit_changes(actor, "expire-order", details={"note": note})
    await uow.flush()
    return order


# -- staff decisions on orders -----------------------------------------------------------------------------------


async def cancel_orders(uow: UnitOfWork, *, order_ids: Sequence[int], actor: Actor, reason: str) -> list[OrderOutcome]:
    """Cancel every line not yet at a provider, then the order. Refunds are a separate step.

    Lines that already finished (completed, partial) keep what was delivered: such an order closes as partially
    completed, not canceled, and the outcome says so.
    """
    reason = _text(reason, "reason", required=N_("say why the order is canceled"))
    outcomes = []
    for order in await lock_orders(uow, order_ids):
        check_transition(lifecycle.order_subject(order), ORDER_TRANSITIONS, order.status, OrderStatus.CANCELED)
        upstream = lifecycle.lines_in(order, ACTIVE_UPSTREAM)
        if upstream:
            raise DomainError(
                N_(
                    "Order %(number)s has line(s) %(positions)s at the provider; request a cancel at the provider "
                    "or wait for them to finish"
                ),
                number=order.number,
                positions=", ".join(str(line.position) for line in upstream),
            )
        for line in order.lines:
            if line.fulfillment_status not in FINAL_LINE_STATES:
                lifecycle.set_line_status(uow, order, line, LineStatus.CANCELED, actor, note=reason)
        if order.status not in FINAL_ORDER_STATES:
            lifecycle.set_status(uow, order, OrderStatus.CANCELED, actor, reason)
        outcomes.append(OrderOutcome(order.number, order.status))
    uow.audit_changes(actor, "cancel-order", details={"reason": reason})
    await uow.flush()
    return outcomes


async def add_note(uow: UnitOfWork, *, order_ids: Sequence[int], actor: Actor, note: str) -> list[Order]:
    """An internal note in each order's timeline (clients never see it)."""
    text = _text(note, "note", required=N_("the note is empty"))
    orders = await lock_orders(uow, order_ids)
    for order in orders:
        record_event(uow, order, EventKind.NOTE, actor, note=text)
        uow.audit(actor, "add-note", "order", order.id, details={"note": text})
    await uow.flush()
    return orders


async def renew_tracking_link(uow: UnitOfWork, *, order_id: int, actor: Actor) -> str:
    """A new tracking link for the client; the previous one stops working. Returns the new token."""
    (order,) = await lock_orders(uow, [order_id])
    token, order.tracking_token_hash = new_tracking_token()
    record_event(uow, order, EventKind.NOTE, actor, note=N_("tracking link renewed; the previous link no longer works"))
    uow.audit(actor, "renew-tracking-link", "order", order.id)
    await uow.flush()
    return token


# -- staff decisions on lines ------------------------------------------------------------------------------------


def _refuse_unless(order: Order, line: OrderLine, action: LineAction, why: str) -> None:
    if line.fulfillment_status not in ACTION_STATES[action]:
        raise DomainError(why, line=lifecycle.line_subject(order, line), state=state_label(line.fulfillment_status))


async def hold_lines(
    uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor, reason: str
) -> list[tuple[Order, OrderLine]]:
    """Keep queued lines (or lines waiting for a retry) from being dispatched until they are resumed."""
    reason = _text(reason, "reason", required=N_("say why the line is held"))
    locked = await lock_lines(uow, line_ids)
    for order, line in locked:
        _refuse_unless(order, line, LineAction.HOLD, N_("%(line)s is %(state)s; only queued lines are held"))
        lifecycle.set_line_status(uow, order, line, LineStatus.ON_HOLD, actor, note=reason)
    uow.audit_changes(actor, "hold-line", details={"reason": reason})
    await uow.flush()
    return locked


async def resume_lines(
    uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor, note: str | None = None
) -> list[tuple[Order, OrderLine]]:
    """Put held lines back into the dispatch queue."""
    locked = await lock_lines(uow, line_ids)
    for order, line in locked:
        _refuse_unless(order, line, LineAction.RESUME, N_("%(line)s is %(state)s, not on hold"))
        lifecycle.set_line_status(uow, order, line, LineStatus.QUEUED, actor, note=note or "resumed")
    await queue_dispatch(uow, [line.id for _order, line in locked])
    uow.audit_changes(actor, "resume-line", details={"note": note})
    await uow.flush()
    return locked


async def cancel_lines(
    uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor, reason: str
) -> list[tuple[Order, OrderLine]]:
    """Cancel held or failed lines (never at a provider); an order whose lines all end closes. Refunds are a
    separate step."""
    reason = _text(reason, "reason", required=N_("say why the line is canceled"))
    locked = await lock_lines(uow, line_ids)
    for order, line in locked:
        _refuse_unless(
            order, line, LineAction.CANCEL, N_("%(line)s is %(state)s; only held or failed lines are canceled")
        )
        lifecycle.set_line_status(uow, order, line, LineStatus.CANCELED, actor, note=reason)
    uow.audit_changes(actor, "cancel-line", details={"reason": reason})
    await uow.flush()
    return locked
