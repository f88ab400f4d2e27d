"""Refunding a line end to end: unit of work 1 (request), the processor, unit of work 2 (result).

The processor's call sits between two transactions, never inside one: a refund row is committed ``pending`` with
its idempotency key before Stripe is asked, and the answer is committed after. Whoever calls these (an admin
action, a job, the CLI) hands over the session factory and the gateway; these functions open the units of work.

- Stripe refuses (over-refund, invalid request): the refund is recorded ``failed`` with Stripe's reason and
  :class:`RefundRefused` carries it to the face; no money moved, nothing else changed.
- Stripe cannot be reached (or crashes, or we crash before unit of work 2): the refund stays ``pending``.
  Refunding the line again (or :func:`resume_refund`) re-sends it with the same key, and Stripe answers with the
  one refund it made.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.errors import DomainError
from app.i18n import N_
from app.payments import refunds
from app.payments.gateway import GatewayError, PaymentGateway
from app.payments.models import RefundStatus
from app.payments.refunds import RefundAmount, RefundRefused, RefundRequest
from app.uow import unit_of_work


class RefundNotSent(DomainError):
    """The processor could not be reached: the refund stays pending and is sent again with the same key."""

    code = "refund_pending"


@dataclass(frozen=True)
class RefundOutcome:
    refund_id: int
    status: RefundStatus
    amount: Decimal
    currency: str
    order_number: str
    line_position: int | None
    resumed: bool


async def refund_line(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentGateway,
    *,
    line_id: int,
    actor: Actor,
    reason: str,
    kind: RefundAmount = RefundAmount.FULL,
    amount: Decimal | None = None,
    ip: str | None = None,
) -> RefundOutcome:
    """Refund a line (``amount``, or what ``kind`` gives back); a pending refund of the line is sent again."""
    async with unit_of_work(sessions, ip=ip) as uow:
        request = await refunds.request_refund(
            uow, line_id=line_id, actor=actor, reason=reason, kind=kind, amount=amount
        )
    return await send_refund(sessions, payments, request, actor=actor, ip=ip)


async def resume_refund(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentGateway,
    *,
    refund_id: int,
    actor: Actor,
    ip: str | None = None,
) -> RefundOutcome:
    """Send a pending refund again, with its own idempotency key."""
    async with unit_of_work(sessions, ip=ip) as uow:
        request = await refunds.pending_refund(uow, refund_id=refund_id)
    return await send_refund(sessions, payments, request, actor=actor, ip=ip)


async def send_refund(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentGateway,
    request: RefundRequest,
    *,
    actor: Actor,
    ip: str | None = None,
) -> RefundOutcome:
    """Ask the processor (outside any transaction), then record its answer in a unit of work of its own."""
    try:
        result = await payments.refund(
            payment_intent_id=request.payment_intent_id,
            amount=request.amount,
            currency=request.currency,
            idempotency_key=request.idempotency_key,
            reason=request.reason,
            metadata=request.metadata,
        )
    except GatewayError as exc:
        if exc.retryable:
            raise RefundNotSent(
                N_("Stripe did not answer (%(reason)s). The refund stays pending; refund the line again to resend it."),
                reason=str(exc),
            ) from exc
        async with unit_of_work(sessions, ip=ip) as uow:
            await refunds.record_refund_result(uow, refund_id=request.refund_id, actor=actor, failure=str(exc))
        raise RefundRefused(N_("Stripe refused the refund: %(reason)s"), reason=str(exc)) from exc
    async with unit_of_work(sessions, ip=ip) as uow:
        refund = await refunds.record_refund_result(uow, refund_id=request.refund_id, actor=actor, result=result)
        return RefundOutcome(
            refund_id=refund.id,
            status=refund.status,
            amount=refund.amount,
            currency=refund.currency,
            order_number=request.order_number,
            line_position=request.line_position,
            resumed=request.resumed,
        )
