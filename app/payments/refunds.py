"""Refund commands: ask for a refund of a line, record the processor's answer, reconcile a charge's refunds.

A refund moves money at the processor, which no transaction covers, so it takes two units of work around the
gateway call (``app/payments/refund_flow.py``): :func:`request_refund` checks the amount and writes the refund
``pending`` with its idempotency key; :func:`record_refund_result` writes the answer. A crash in between leaves
the pending row, and sending it again re-uses its key: the processor answers with the first refund.

``payment.refunded_amount`` only grows: it is the largest of what it was, the refunds we know succeeded, and the
charge's ``amount_refunded`` when Stripe tells us (``charge.refunded``), so duplicates, echoes of our own refunds
and out-of-order deliveries all end on the same figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.errors import Conflict, DomainError, NotFound
from app.i18n import N_
from app.invoicing.credit_notes import issue_credit_note
from app.notifications.messages import release_line_refund
from app.orders.lifecycle import lock_lines, lock_orders, record_event, set_payment_status
from app.orders.models import EventKind, Order, OrderLine
from app.orders.states import PaymentStatus
from app.payments import gateway
from app.payments.models import Payment, PaymentRecordStatus, Refund, RefundStatus
from app.payments.refund_amounts import (
    ZERO,
    full_line_amount,
    line_gross_shares,
    refundable_for_line,
    remaining_share_amount,
)
from app.states import label as state_label
from app.uow import UnitOfWork

# Order payment states in which money can be refunded (a dispute is settled first; an unapplied payment by hand).
REFUNDABLE_STATES = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED})
STRIPE_LABEL = "Stripe"
DASHBOARD_REASON = "refunded in Stripe"
METADATA_REFUND_ID = "smplat_refund_id"


class RefundAmount(StrEnum):
    FULL = "full"  # what is left of the line's gross share
    REMAINING_SHARE = "remaining_share"  # the share of what the provider did not deliver (``remains``)


@dataclass(frozen=True)
class RefundQuote:
    """What a refund of a line would give back now (the confirmation page shows it)."""

    line_id: int
    order_number: str
    position: int
    share: Decimal
    refunded: Decimal
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RefundRequest:
    """A pending refund, ready to be sent to the processor (again, with the same key, when it is retried)."""

    refund_id: int
    order_number: str
    line_position: int | None
    payment_intent_id: str
    amount: Decimal
    currency: str
    idempotency_key: str
    reason: str
    resumed: bool = False  # an earlier pending refund of the line, sent again with its own key

    @property
    def metadata(self) -> dict[str, str]:
        return {METADATA_REFUND_ID: str(self.refund_id), "order_number": self.order_number}


class RefundRefused(DomainError):
    code = "refund_refused"


# -- reading ------------------------------------------------------------------------------------------------------


def _shares(order: Order) -> dict[int, Decimal]:
    lines = sorted(order.lines, key=lambda line: (line.position, line.id))
    shares = line_gross_shares([line.net for line in lines], order.tax, order.gross)
    return {line.id: share for line, share in zip(lines, shares, strict=True)}


async def _refunded_for_line(session: AsyncSession, line_id: int) -> Decimal:
    """Refunds of the line that are given back or may still be (pending and succeeded)."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
            Refund.order_line_id == line_id, Refund.status != RefundStatus.FAILED
        )
    )
    return Decimal(total or 0)


async def _pending_for_payment(session: AsyncSession, payment_id: int) -> Decimal:
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment_id, Refund.status == RefundStatus.PENDING
        )
    )
    return Decimal(total or 0)


async def _succeeded_for_payment(session: AsyncSession, payment_id: int) -> Decimal:
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment_id, Refund.status == RefundStatus.SUCCEEDED
        )
    )
    return Decimal(total or 0)


def _amount_for(kind: RefundAmount, line: OrderLine, share: Decimal, refunded: Decimal) -> Decimal:
    if kind == RefundAmount.REMAINING_SHARE:
        return remaining_share_amount(share, line.quantity, line.remains, refunded)
    return full_line_amount(share, refunded)


async def quote_refunds(session: AsyncSession, line_ids: list[int], kind: RefundAmount) -> list[RefundQuote]:
    """What refunding each line would give back now (no lock: the command checks again)."""
    lines = (
        await session.scalars(sa.select(OrderLine).where(OrderLine.id.in_(line_ids)).order_by(OrderLine.id))
    ).unique()
    quotes = []
    for line in lines:
        order = await session.get_one(Order, line.order_id)
        share = _shares(order)[line.id]
        refunded = await _refunded_for_line(session, line.id)
        amount = _amount_for(kind, line, share, refunded)
        quotes.append(RefundQuote(line.id, order.number, line.position, share, refunded, amount, order.currency))
    return quotes


async def _paid_payment(uow: UnitOfWork, order: Order) -> Payment:
    """The order's card payment, row-locked (after the order, see ``lock_orders``)."""
    payment = await uow.session.scalar(
        sa.select(Payment)
        .where(Payment.order_id == order.id, Payment.status == PaymentRecordStatus.SUCCEEDED)
        .order_by(Payment.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise RefundRefused(N_("Order %(number)s has no payment to refund"), number=order.number)
    if not payment.stripe_payment_intent_id:
        raise RefundRefused(
            N_("The payment of order %(number)s was not made by card; refund it by hand"), number=order.number
        )
    uow.track(payment)
    return payment


# -- commands -----------------------------------------------------------------------------------------------------


async def request_refund(
    uow: UnitOfWork,
    *,
    line_id: int,
    actor: Actor,
    reason: str,
    kind: RefundAmount = RefundAmount.FULL,
    amount: Decimal | None = None,
) -> RefundRequest:
    """Write a pending refund of a line (``amount``, or what ``kind`` gives back), checked against what is left of
    the line's gross share and of the payment. A pending refund of the line is returned instead, to be sent again
    with its key: one refund at a time per line."""
    ((order, line),) = await lock_lines(uow, [line_id])
    payment = await _paid_payment(uow, order)
    pending = await uow.session.scalar(
        sa.select(Refund)
        .where(Refund.order_line_id == line.id, Refund.status == RefundStatus.PENDING)
        .order_by(Refund.id)
        .limit(1)
        .with_for_update()
    )
    if pending is not None:
        return _request_of(pending, order, line, payment, resumed=True)
    if order.payment_status not in REFUNDABLE_STATES:
        raise RefundRefused(
            N_("The payment of order %(number)s is %(state)s: no refund now"),
            number=order.number,
            state=state_label(order.payment_status),
        )
    share = _shares(order)[line.id]
    refunded = await _refunded_for_line(uow.session, line.id)
    wanted = amount if amount is not None else _amount_for(kind, line, share, refunded)
    committed = payment.refunded_amount + await _pending_for_payment(uow.session, payment.id)
    most = refundable_for_line(share, refunded, payment.amount, committed)
    if wanted <= ZERO:
        raise RefundRefused(
            N_("Nothing left to refund on line %(position)s of order %(number)s"),
            position=line.position,
            number=order.number,
        )
    if wanted != wanted.quantize(Decimal("0.01")) or wanted > most:
        raise RefundRefused(
            N_("A refund of %(amount)s %(currency)s is more than line %(position)s has left (%(most)s %(currency)s)"),
            amount=str(wanted),
            currency=order.currency,
            position=line.position,
            most=str(most),
        )
    attempts = await uow.session.scalar(
        sa.select(sa.func.count()).select_from(Refund).where(Refund.order_line_id == line.id)
    )
    refund = Refund(
        payment_id=payment.id,
        order_line_id=line.id,
        amount=wanted,
        currency=payment.currency,
        reason=reason,
        status=RefundStatus.PENDING,
        idempotency_key=f"refund:{line.id}:{int(attempts or 0) + 1}",
        requested_by=actor.describe()[:254],
    )
    uow.session.add(refund)
    await uow.flush()
    record_event(
        uow,
        order,
        EventKind.NOTE,
        actor,
        line=line,
        note=f"refund of {wanted} {payment.currency} requested: {reason}",
        data={"refund": refund.id, "amount": str(wanted), "kind": kind.value if amount is None else "amount"},
    )
    uow.audit(
        actor,
        "request-refund",
        "refund",
        refund.id,
        details={"order": order.number, "line": line.position, "amount": str(wanted), "reason": reason},
    )
    await uow.flush()
    return _request_of(refund, order, line, payment, resumed=False)


def _request_of(
    refund: Refund, order: Order, line: OrderLine | None, payment: Payment, *, resumed: bool
) -> RefundRequest:
    assert payment.stripe_payment_intent_id is not None  # checked by _paid_payment
    return RefundRequest(
        refund_id=refund.id,
        order_number=order.number,
        line_position=line.position if line is not None else None,
        payment_intent_id=payment.stripe_payment_intent_id,
        amount=refund.amount,
        currency=refund.currency,
        idempotency_key=refund.idempotency_key,
        reason=refund.reason,
        resumed=resumed,
    )


async def pending_refund(uow: UnitOfWork, *, refund_id: int) -> RefundRequest:
    """A pending refund as it was requested, to send it again with its key (after a crash or a timeout)."""
    refund = await uow.session.get(Refund, refund_id)
    if refund is None:
        raise NotFound(N_("Refund %(id)s not found"), id=refund_id)
    payment = await uow.session.get_one(Payment, refund.payment_id)
    (order,) = await lock_orders(uow, [payment.order_id])
    payment = await _paid_payment(uow, order)
    refund = await _lock_refund(uow, refund_id)
    if refund.status != RefundStatus.PENDING:
        raise Conflict(N_("Refund %(id)s is %(state)s already"), id=refund_id, state=state_label(refund.status))
    line = next((line for line in order.lines if line.id == refund.order_line_id), None)
    return _request_of(refund, order, line, payment, resumed=True)


async def _lock_refund(uow: UnitOfWork, refund_id: int) -> Refund:
    refund = await uow.session.scalar(
        sa.select(Refund).where(Refund.id == refund_id).with_for_update().execution_options(populate_existing=True)
    )
    if refund is None:
        raise NotFound(N_("Refund %(id)s not found"), id=refund_id)
    uow.track(refund)
    return refund


STRIPE_STATUS = {"succeeded": RefundStatus.SUCCEEDED, "failed": RefundStatus.FAILED, "canceled": RefundStatus.FAILED}


async def record_refund_result(
    uow: UnitOfWork,
    *,
    refund_id: int,
    actor: Actor,
    result: gateway.Refund | None = None,
    failure: str | None = None,
) -> Refund:
    """The processor's answer to a refund: its id and status, or why it refused. Idempotent: a refund that a
    webhook settled first (or an earlier call) stays as it is."""
    row = await uow.session.get(Refund, refund_id)
    if row is None:
        raise NotFound(N_("Refund %(id)s not found"), id=refund_id)
    order_id = await uow.session.scalar(sa.select(Payment.order_id).where(Payment.id == row.payment_id))
    assert order_id is not None
    (order,) = await lock_orders(uow, [order_id])
    payment = await _lock_payment(uow, row.payment_id)
    refund = await _lock_refund(uow, refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund
    line = next((line for line in order.lines if line.id == refund.order_line_id), None)
    if result is not None:
        refund.stripe_refund_id = refund.stripe_refund_id or result.id
        refund.status = STRIPE_STATUS.get(result.status, RefundStatus.PENDING)
        if refund.status == RefundStatus.FAILED:
            refund.failure = f"Stripe reported the refund {result.status}"
    else:
        refund.status, refund.failure = RefundStatus.FAILED, failure or "refused"
    await uow.flush()
    await _record_result(uow, order, line, refund, actor)
    if refund.status == RefundStatus.SUCCEEDED:
        await _settle_refunded_amount(uow, order, payment, actor)
    uow.audit_changes(actor, "record-refund", details={"order": order.number, "stripe_refund": refund.stripe_refund_id})
    await uow.flush()
    return refund


async def _record_result(uow: UnitOfWork, order: Order, line: OrderLine | None, refund: Refund, actor: Actor) -> None:
    """The timeline hears how the refund ended; a succeeded one is documented by its credit note. Once it has
    ended, the client's mail about it (held since the refund was asked for) goes out."""
    _note_result(uow, order, line, refund, actor)
    if refund.status == RefundStatus.SUCCEEDED:
        await issue_credit_note(uow, order, refund, line, actor)
    if refund.status != RefundStatus.PENDING:
        await release_line_refund(uow, order.id, refund.id)


def _note_result(uow: UnitOfWork, order: Order, line: OrderLine | None, refund: Refund, actor: Actor) -> None:
    money = f"{refund.amount} {refund.currency}"
    note = {
        RefundStatus.SUCCEEDED: f"refunded {money}: {refund.reason}",
        RefundStatus.FAILED: f"refund of {money} failed: {refund.failure}",
        RefundStatus.PENDING: f"refund of {money} accepted by Stripe, not settled yet",
    }[refund.status]
    data = {"refund": refund.id, "stripe_refund": refund.stripe_refund_id, "status": refund.status.value}
    record_event(uow, order, EventKind.NOTE, actor, line=line, note=note, data=data)


async def _lock_payment(uow: UnitOfWork, payment_id: int) -> Payment:
    payment = await uow.session.scalar(
        sa.select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True)
    )
    assert payment is not None
    uow.track(payment)
    return payment


async def _settle_refunded_amount(
    uow: UnitOfWork, order: Order, payment: Payment, actor: Actor, reported: Decimal = ZERO
) -> None:
    """Raise ``refunded_amount`` to what we know was given back (never lower it), then the order's payment status."""
    succeeded = await _succeeded_for_payment(uow.session, payment.id)
    payment.refunded_amount = min(max(payment.refunded_amount, succeeded, reported), payment.amount)
    await uow.flush()
    if order.payment_status not in REFUNDABLE_STATES:
        return  # a dispute's close decides; an unapplied payment is settled by hand
    if payment.refunded_amount >= payment.amount:
        target = PaymentStatus.REFUNDED
    elif payment.refunded_amount > ZERO:
        target = PaymentStatus.PARTIALLY_REFUNDED
    else:
        return
    if target != order.payment_status:
        set_payment_status(uow, order, target, actor, note=f"refunded {payment.refunded_amount} of {payment.amount}")


# -- what Stripe tells us -----------------------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else None


async def payment_for_charge(session: AsyncSession, obj: Mapping[str, Any]) -> Payment | None:
    """Our payment of a charge or dispute: by its payment intent, else by the order id in its metadata."""
    intent = _id(obj.get("payment_intent"))
    if intent:
        found = await session.scalar(sa.select(Payment).where(Payment.stripe_payment_intent_id == intent))
        if found is not None:
            return found
    metadata = obj.get("metadata")
    order_id: object = metadata.get("order_id") if isinstance(metadata, Mapping) else None
    if isinstance(order_id, str) and order_id.isdigit():
        paid: Payment | None = await session.scalar(
            sa.select(Payment)
            .where(Payment.order_id == int(order_id), Payment.status == PaymentRecordStatus.SUCCEEDED)
            .order_by(Payment.id)
            .limit(1)
        )
        return paid
    return None


async def reconcile_charge(uow: UnitOfWork, *, charge: Mapping[str, Any], actor: Actor) -> Payment | None:
    """``charge.refunded``: every refund the charge lists becomes (or settles) a row of ours — ours matched by
    the id in their metadata, others (made in the Stripe dashboard) as refunds of no line — and the payment's
    refunded amount rises to the charge's. None when the charge is not ours."""
    found = await payment_for_charge(uow.session, charge)
    if found is None:
        return None
    (order,) = await lock_orders(uow, [found.order_id])
    payment = await _lock_payment(uow, found.id)
    currency = str(charge.get("currency") or payment.currency).upper()
    listed = charge.get("refunds")
    listed_refunds = listed.get("data") if isinstance(listed, Mapping) else None
    for data in listed_refunds if isinstance(listed_refunds, list) else []:
        if isinstance(data, Mapping) and data.get("id"):
            await _reconcile_refund(uow, order, payment, data, currency, actor)
    reported = gateway.from_minor_units(int(charge.get("amount_refunded") or 0), currency)
    before = payment.refunded_amount
    await _settle_refunded_amount(uow, order, payment, actor, reported=reported)
    uow.audit_changes(actor, "reconcile-refunds", details={"order": order.number, "charge": _id(charge.get("id"))})
    if payment.refunded_amount != before:
        record_event(
            uow,
            order,
            EventKind.NOTE,
            actor,
            note=f"Stripe reports {payment.refunded_amount} {payment.currency} refunded in total",
            data={"charge": _id(charge.get("id")), "refunded": str(payment.refunded_amount)},
        )
    await uow.flush()
    return payment


async def _reconcile_refund(
    uow: UnitOfWork, order: Order, payment: Payment, data: Mapping[str, Any], currency: str, actor: Actor
) -> None:
    stripe_id = str(data["id"])
    status = STRIPE_STATUS.get(str(data.get("status")), RefundStatus.PENDING)
    row = await uow.session.scalar(sa.select(Refund).where(Refund.stripe_refund_id == stripe_id).with_for_update())
    if row is None:
        metadata = data.get("metadata")
        ours = metadata.get(METADATA_REFUND_ID) if isinstance(metadata, Mapping) else None
        if isinstance(ours, str) and ours.isdigit():
            row = await uow.session.scalar(
                sa.select(Refund)
                .where(Refund.id == int(ours), Refund.payment_id == payment.id, Refund.stripe_refund_id.is_(None))
                .with_for_update()
            )
    if row is None:
        row = Refund(
            payment_id=payment.id,
            order_line_id=None,
            amount=gateway.from_minor_units(int(data.get("amount") or 0), currency),
            currency=currency,
            reason=DASHBOARD_REASON,
            status=status,
            idempotency_key=f"stripe:{stripe_id}",
            stripe_refund_id=stripe_id,
            requested_by=STRIPE_LABEL,
        )
        if row.amount <= ZERO:
            return
        uow.session.add(row)
        await uow.flush()
        uow.audit(actor, "record-refund", "refund", row.id, details={"order": order.number, "stripe_refund": stripe_id})
        await _record_result(uow, order, None, row, actor)
        return
    uow.track(row)
    row.stripe_refund_id = row.stripe_refund_id or stripe_id
    if row.status == RefundStatus.PENDING and status != RefundStatus.PENDING:
        row.status = status
        if status == RefundStatus.FAILED:
            row.failure = f"Stripe reported the refund {data.get('status')}"
        line = next((line for line in order.lines if line.id == row.order_line_id), None)
        await uow.flush()
        await _record_result(uow, order, line, row, actor)
