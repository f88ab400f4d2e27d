"""Dispute commands: a card holder disputes a charge (``charge.dispute.created``), the bank decides
(``charge.dispute.closed``).

The order's timeline remembers each dispute by Stripe's id (``data.dispute`` with the stage), so a duplicate
delivery changes nothing and a close that arrives before its opening is not undone by the late opening.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.actors import Actor
from app.fulfillment.alerts import AlertTopic, alert_staff
from app.invoicing.credit_notes import issue_dispute_credit_note
from app.orders.lifecycle import lock_orders, record_event, set_payment_status
from app.orders.models import EventKind, Order, OrderEvent
from app.orders.states import PaymentStatus
from app.payments import gateway
from app.payments.models import Payment
from app.payments.refunds import REFUNDABLE_STATES, payment_for_charge
from app.uow import UnitOfWork

OPENED, CLOSED = "opened", "closed"
WON_STATUSES = frozenset({"won", "warning_closed"})


async def _stages(uow: UnitOfWork, order: Order, dispute_id: str) -> set[str]:
    rows = await uow.session.scalars(
        sa.select(OrderEvent.data["dispute_stage"].astext).where(
            OrderEvent.order_id == order.id, OrderEvent.data["dispute"].astext == dispute_id
        )
    )
    return {stage for stage in rows.all() if stage}


def _amount(dispute: Mapping[str, Any]) -> tuple[Decimal, str]:
    currency = str(dispute.get("currency") or "eur").upper()
    return gateway.from_minor_units(int(dispute.get("amount") or 0), currency), currency


def _facts(dispute: Mapping[str, Any]) -> tuple[str, str, str]:
    amount, currency = _amount(dispute)
    return str(dispute["id"]), f"{amount} {currency}", str(dispute.get("reason") or "unknown")


async def _locked(uow: UnitOfWork, dispute: Mapping[str, Any]) -> tuple[Order, Payment] | None:
    found = await payment_for_charge(uow.session, dispute)
    if found is None:
        return None
    (order,) = await lock_orders(uow, [found.order_id])
    return order, found


async def open_dispute(uow: UnitOfWork, *, dispute: Mapping[str, Any], actor: Actor) -> Order | None:
    """Flag the order as disputed, tell staff in its timeline and by an alert. None when the charge is not ours."""
    locked = await _locked(uow, dispute)
    if locked is None:
        return None
    order, _payment = locked
    dispute_id, money, reason = _facts(dispute)
    stages = await _stages(uow, order, dispute_id)
    if OPENED in stages:
        return order
    record_event(
        uow,
        order,
        EventKind.NOTE,
        actor,
        note=f"dispute opened: {reason}, {money}",
        data={"dispute": dispute_id, "dispute_stage": OPENED, "reason": reason, "amount": money},
    )
    if CLOSED not in stages and order.payment_status in REFUNDABLE_STATES:
        set_payment_status(uow, order, PaymentStatus.DISPUTED, actor, note=f"dispute {dispute_id}: {reason}")
    uow.audit(actor, "open-dispute", "order", order.id, details={"dispute": dispute_id, "reason": reason})
    await alert_staff(
        uow,
        actor,
        AlertTopic.DISPUTE_OPENED,
        "order",
        order.id,
        message=f"{order.number}: dispute {dispute_id} opened ({reason}, {money}); answer it in Stripe before its "
        "deadline",
    )
    await uow.flush()
    return order


async def close_dispute(uow: UnitOfWork, *, dispute: Mapping[str, Any], actor: Actor) -> Order | None:
    """Won: the payment returns to paid or partially refunded. Lost: it stays disputed (the money went back to
    the card holder through the bank, not as a refund of ours) and a credit note corrects the invoice by the
    disputed amount. None when the charge is not ours."""
    locked = await _locked(uow, dispute)
    if locked is None:
        return None
    order, payment = locked
    dispute_id, money, _reason = _facts(dispute)
    amount, currency = _amount(dispute)
    if CLOSED in await _stages(uow, order, dispute_id):
        return order
    status = str(dispute.get("status") or "")
    won = status in WON_STATUSES
    note = f"dispute closed, won: {money} stays with us" if won else f"dispute closed, {status or 'lost'}: {money} lost"
    record_event(
        uow,
        order,
        EventKind.NOTE,
        actor,
        note=note,
        data={"dispute": dispute_id, "dispute_stage": CLOSED, "status": status, "amount": money},
    )
    if not won:
        await issue_dispute_credit_note(
            uow,
            order,
            dispute_id=dispute_id,
            amount=amount,
            currency=currency,
            reason=f"Chargeback {dispute_id}",
            actor=actor,
        )
    elif order.payment_status == PaymentStatus.DISPUTED:
        if payment.refunded_amount >= payment.amount:
            target = PaymentStatus.REFUNDED
        elif payment.refunded_amount > 0:
            target = PaymentStatus.PARTIALLY_REFUNDED
        else:
            target = PaymentStatus.PAID
        set_payment_status(uow, order, target, actor, note=f"dispute {dispute_id} won")
    uow.audit(actor, "close-dispute", "order", order.id, details={"dispute": dispute_id, "status": status})
    await uow.flush()
    return order
