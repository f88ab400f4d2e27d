"""Lines waiting on their provider: held while its balance is low, resumed when it is topped up; stuck lines flagged.

Only holds the system made for the provider's balance are resumed automatically (dispatch's "Not enough funds",
or the balance upkeep below); a line staff held by hand stays held until staff resume it. Both kinds are told
apart by the event that put the line on hold (``data.hold`` = :data:`BALANCE_HOLD`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.actors import Actor, ActorKind
from app.audit.models import AuditLog
from app.catalog.models import PRICE_BASIS, PriceBasis, ServiceKind
from app.editing import lock_record
from app.fulfillment.alerts import AlertTopic, alert_staff
from app.fulfillment.commands import BALANCE_HOLD
from app.fulfillment.models import Provider, ProviderService
from app.fulfillment.queues import LAST_MOVEMENT, stuck_condition
from app.orders import lifecycle
from app.orders.commands import resume_lines
from app.orders.lifecycle import lock_lines, record_event
from app.orders.models import EventKind, Order, OrderEvent, OrderLine
from app.orders.states import LineStatus
from app.uow import UnitOfWork

BALANCE_HOLD_REASON = "provider balance low"
RESUME_NOTE = "provider balance topped up"
STUCK_FLAG = "stuck"  # ``data.flag`` of the event that flags a line stuck
MAX_LINES_PER_RUN = 500


def _hold_event_for(line_id: sa.orm.InstrumentedAttribute[int]) -> sa.ScalarSelect[bool]:
    """Whether the latest event that put the line on hold was a hold for the provider's balance."""
    held_for_balance = sa.or_(
        OrderEvent.data["hold"].astext == BALANCE_HOLD,
        # before holds were marked: dispatch's note for "Not enough funds", never a person's
        sa.and_(OrderEvent.note.like("provider low balance:%"), OrderEvent.actor_kind != ActorKind.STAFF),
    )
    return (
        sa.select(sa.func.coalesce(held_for_balance, sa.false()))
        .where(
            OrderEvent.line_id == line_id,
            OrderEvent.kind == EventKind.LINE_STATUS,
            OrderEvent.to_state == LineStatus.ON_HOLD.value,
        )
        .order_by(OrderEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def upstream_cost(kind: ServiceKind, quantity: int, rate: Decimal) -> Decimal:
    """What a line should cost at its provider, from the synced rate (per 1000 units, or per package/month)."""
    return rate if PRICE_BASIS[kind] != PriceBasis.PER_1000 else rate * quantity / 1000


async def balance_held_lines(uow: UnitOfWork, provider_id: int, limit: int = MAX_LINES_PER_RUN) -> list[int]:
    """The provider's lines on hold because its balance was low (not those staff held), oldest first."""
    return [line_id for line_id, _cost in await _balance_held(uow, provider_id, limit)]


async def _balance_held(uow: UnitOfWork, provider_id: int, limit: int) -> list[tuple[int, Decimal]]:
    rows = await uow.session.execute(
        sa.select(OrderLine.id, OrderLine.service_kind, OrderLine.quantity, ProviderService.rate)
        .outerjoin(ProviderService, ProviderService.id == OrderLine.provider_service_id)
        .where(
            OrderLine.provider_id == provider_id,
            OrderLine.fulfillment_status == LineStatus.ON_HOLD,
            _hold_event_for(OrderLine.id).is_(True),
        )
        .order_by(OrderLine.id)
        .limit(limit)
    )
    return [(line_id, upstream_cost(kind, quantity, rate or Decimal(0))) for line_id, kind, quantity, rate in rows]


async def hold_for_low_balance(
    uow: UnitOfWork, *, provider_id: int, actor: Actor, limit: int = MAX_LINES_PER_RUN
) -> list[int]:
    """The provider's queued lines wait (on hold, marked as held for its balance) instead of being sent."""
    queued = list(
        await uow.session.scalars(
            sa.select(OrderLine.id)
            .where(OrderLine.provider_id == provider_id, OrderLine.fulfillment_status == LineStatus.QUEUED)
            .order_by(OrderLine.id)
            .limit(limit)
        )
    )
    return await hold_for_balance(uow, line_ids=queued, actor=actor)


async def hold_for_balance(uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor) -> list[int]:
    """These lines, those still queued, wait on hold for their provider's balance (resumed after a top-up)."""
    if not line_ids:
        return []
    held = []
    for order, line in await lock_lines(uow, line_ids):
        if line.fulfillment_status != LineStatus.QUEUED:  # dispatched meanwhile
            continue
        lifecycle.set_line_status(
            uow, order, line, LineStatus.ON_HOLD, actor, note=BALANCE_HOLD_REASON, data={"hold": BALANCE_HOLD}
        )
        held.append(line.id)
    uow.audit_changes(actor, "hold-line", details={"reason": BALANCE_HOLD_REASON})
    await uow.flush()
    return held


async def known_low_on_funds(uow: UnitOfWork, provider: Provider) -> bool:
    """Whether the provider is known to lack funds: its synced balance is low, or it already refused for funds.

    Its new lines then wait on hold with the others instead of being sent only to be refused.
    """
    return provider.is_low_on_balance or bool(await _balance_held(uow, provider.id, 1))


async def alert_refused_for_funds(
    uow: UnitOfWork, *, provider_id: int, line_ids: Sequence[int], actor: Actor, note: str | None
) -> AuditLog | None:
    """Staff hear once that a provider refused lines for lack of funds, not once per line.

    No alert while the provider is already known to be low (its balance sync alerted, or earlier lines wait on hold
    for its funds); the provider's row is locked so that batches refused at the same moment raise one alert.
    """
    provider = await lock_record(uow.session, Provider, provider_id)
    if provider.is_low_on_balance:
        return None
    earlier = await uow.session.scalar(
        sa.select(OrderLine.id)
        .where(
            OrderLine.provider_id == provider_id,
            OrderLine.fulfillment_status == LineStatus.ON_HOLD,
            OrderLine.id.not_in(line_ids),
            _hold_event_for(OrderLine.id).is_(True),
        )
        .limit(1)
    )
    if earlier is not None:
        return None
    return await alert_staff(
        uow,
        actor,
        AlertTopic.PROVIDER_BALANCE_LOW,
        "provider",
        provider_id,
        message=(
            f"{provider.name} refused {len(line_ids)} line(s) for lack of funds ({note}); "
            "its lines wait on hold until it is topped up"
        ),
        details={"lines": sorted(line_ids)},
    )


async def resume_after_top_up(
    uow: UnitOfWork, *, provider_id: int, actor: Actor, limit: int = MAX_LINES_PER_RUN
) -> list[int]:
    """The provider's lines held for its balance go back into the dispatch queue, as many as its funds cover.

    Oldest first, while their expected cost (synced rate times quantity) fits in the balance above the threshold: a
    provider that said "Not enough funds" above its threshold does not get the same lines again every sync.
    """
    provider = await uow.session.get_one(Provider, provider_id)
    budget = (provider.balance or Decimal(0)) - provider.low_balance_threshold
    line_ids = []
    for line_id, cost in await _balance_held(uow, provider_id, limit):
        if cost > budget:
            break
        budget -= cost
        line_ids.append(line_id)
    if not line_ids:
        return []
    locked = await lock_lines(uow, line_ids)
    still_held = [line.id for _order, line in locked if line.fulfillment_status == LineStatus.ON_HOLD]
    await resume_lines(uow, line_ids=still_held, actor=actor, note=RESUME_NOTE)
    return still_held


async def settle_balance_holds(uow: UnitOfWork, *, provider_id: int, actor: Actor) -> tuple[list[int], list[int]]:
    """(lines held, lines resumed) for the provider's balance as last synced."""
    provider = await uow.session.get_one(Provider, provider_id)
    if provider.balance is None or not provider.is_active:
        return [], []
    if provider.is_low_on_balance:
        return await hold_for_low_balance(uow, provider_id=provider_id, actor=actor), []
    return [], await resume_after_top_up(uow, provider_id=provider_id, actor=actor)


# -- stuck lines -------------------------------------------------------------------------------------------------


def _flagged_since_last_movement() -> sa.Exists:
    return sa.exists().where(
        OrderEvent.line_id == OrderLine.id,
        OrderEvent.kind == EventKind.PROVIDER,
        OrderEvent.data["flag"].astext == STUCK_FLAG,
        OrderEvent.at >= LAST_MOVEMENT,
    )


async def unflagged_stuck_lines(
    uow: UnitOfWork, *, now: datetime, stuck_after: timedelta, limit: int = MAX_LINES_PER_RUN
) -> list[int]:
    """Lines the board shows as stuck (one definition: ``stuck_condition``) not yet flagged since they last moved."""
    rows = await uow.session.scalars(
        sa.select(OrderLine.id)
        .where(stuck_condition(now, stuck_after), ~_flagged_since_last_movement())
        .order_by(OrderLine.id)
        .limit(limit)
    )
    return list(rows)


async def flag_stuck_lines(
    uow: UnitOfWork, *, stuck_after: timedelta, actor: Actor, limit: int = MAX_LINES_PER_RUN
) -> list[int]:
    """Flag each stuck line once per stall: an event in its order's timeline and a staff alert."""
    now = uow.now()
    line_ids = await unflagged_stuck_lines(uow, now=now, stuck_after=stuck_after, limit=limit)
    if not line_ids:
        return []
    flagged = []
    for order, line in await lock_lines(uow, line_ids):
        since = line.last_progress_at or line.dispatched_at or line.status_changed_at
        if line.fulfillment_status not in (LineStatus.DISPATCHED, LineStatus.IN_PROGRESS) or since > now - stuck_after:
            continue  # moved on while we looked
        await _flag(uow, order, line, since, stuck_after, actor)
        flagged.append(line.id)
    await uow.flush()
    return flagged


async def _flag(
    uow: UnitOfWork, order: Order, line: OrderLine, since: datetime, stuck_after: timedelta, actor: Actor
) -> None:
    hours = int(stuck_after.total_seconds() // 3600)
    what = "not started" if line.fulfillment_status == LineStatus.DISPATCHED else "no progress"
    note = f"stuck: {what} at the provider for {hours} h or more (since {since:%Y-%m-%d %H:%M} UTC)"
    record_event(
        uow,
        order,
        EventKind.PROVIDER,
        actor,
        line=line,
        note=note,
        data={"flag": STUCK_FLAG, "since": since.isoformat()},
    )
    await alert_staff(
        uow,
        actor,
        AlertTopic.LINE_STUCK,
        "order-line",
        line.id,
        message=f"{order.number} line {line.position} ({line.service_name}): {note}",
        details={"order": order.number, "provider_order_id": line.provider_order_id},
    )
