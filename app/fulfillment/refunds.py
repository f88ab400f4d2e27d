"""What a client gets back when the provider delivered less than ordered (Partial) or nothing (Canceled).

In the polling transaction that ends the line, a refund of the undelivered share of the line (its share of the
order's gross; all of it when canceled) is written ``pending`` through the payments' command, a job that sends
it to the processor is deferred with it (``app/payments/jobs.py``), and the client is told by email how much
(the mail goes out with the refund's credit note once the processor has answered).
A payment that cannot be refunded automatically (not by card, disputed) gets a note in the order's timeline
with the amount owed, for staff.
"""

from __future__ import annotations

from decimal import Decimal

from app.actors import Actor
from app.notifications.messages import send_line_refund
from app.orders.lifecycle import record_event
from app.orders.models import EventKind, Order, OrderLine
from app.orders.states import LineStatus
from app.payments import refunds
from app.payments.jobs import SEND_REFUND_TASK, send_refund_lock
from app.payments.refunds import RefundAmount, RefundRefused
from app.uow import UnitOfWork

REFUND_REQUESTED = "refund requested"


async def refund_undelivered_share(uow: UnitOfWork, order: Order, line: OrderLine, actor: Actor) -> Decimal:
    """Refund what the provider did not deliver; called once per line, when it reaches ``partial`` or ``canceled``
    (final states). Returns the amount (0.00 when nothing is owed)."""
    kind = RefundAmount.FULL if line.fulfillment_status == LineStatus.CANCELED else RefundAmount.REMAINING_SHARE
    delivered = line.quantity - (line.quantity if line.remains is None else min(line.remains, line.quantity))
    reason = f"provider delivered {delivered} of {line.quantity}"
    await uow.flush()
    try:
        async with uow.session.begin_nested():
            request = await refunds.request_refund(uow, line_id=line.id, actor=actor, reason=reason, kind=kind)
    except RefundRefused as exc:
        (owed,) = await refunds.quote_refunds(uow.session, [line.id], kind)
        if owed.amount > 0:
            record_event(
                uow,
                order,
                EventKind.NOTE,
                actor,
                line=line,
                note=f"{REFUND_REQUESTED}: {owed.amount} {order.currency} ({reason}); {exc.message}",
                data={"refund_request": {"amount": str(owed.amount), "currency": order.currency, "by_hand": True}},
            )
        return owed.amount
    await uow.defer(
        SEND_REFUND_TASK, {"refund_id": request.refund_id}, queueing_lock=send_refund_lock(request.refund_id)
    )
    await send_line_refund(uow, order, line, request.amount, request.refund_id)
    return request.amount
