"""Ending a subscription at the end of its paid period: ask the processor, then record its answer.

Like a refund, this spans a call to the processor that no transaction covers: a read (which subscription, may it
end), the call with the idempotency key ``cancel-at-period-end:<subscription id>`` (asking twice is answered with
the first result), then one unit of work that records the answer. The status stays as it is until the processor
ends the subscription (``customer.subscription.deleted`` makes it ``canceled``); no later invoice is collected.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.errors import DomainError, NotFound
from app.i18n import N_
from app.payments import subscriptions
from app.payments.gateway import GatewayError, PaymentGateway
from app.payments.models import Subscription, SubscriptionStatus
from app.uow import unit_of_work

ENDABLE = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.PAUSED})


async def cancel_at_period_end(
    sessions: async_sessionmaker[AsyncSession],
    payments: PaymentGateway,
    *,
    subscription_id: int,
    actor: Actor,
    ip: str | None = None,
) -> datetime | None:
    """The subscription ends when its paid period does; returns that moment (None if the processor gave none)."""
    async with sessions() as session:
        subscription = await session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(N_("This subscription does not exist."))
    if subscription.status not in ENDABLE or not subscription.stripe_subscription_id:
        raise DomainError(N_("Only a running subscription can be canceled at the end of its period."))
    try:
        answer = await payments.cancel_subscription_at_period_end(
            subscription.stripe_subscription_id, idempotency_key=f"cancel-at-period-end:{subscription.id}"
        )
    except GatewayError as exc:
        raise DomainError(N_("Stripe did not accept the cancellation: %(reason)s"), reason=str(exc)) from exc
    ends = answer.get("cancel_at")
    async with unit_of_work(sessions, ip=ip) as uow:
        await subscriptions.update_from_stripe(uow, subscription=answer, actor=actor)
        uow.audit(
            actor,
            "cancel-at-period-end",
            "subscription",
            subscription.id,
            details={"stripe_subscription": subscription.stripe_subscription_id, "cancel_at": ends},
        )
    return datetime.fromtimestamp(ends, tz=UTC) if isinstance(ends, int) else None
