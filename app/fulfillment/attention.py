"""What needs a person this morning: lines by kind of trouble, the worker's heartbeat, providers low on funds.

The dashboard counts each kind of line with :func:`attention_condition` and the order-lines list filters with the
same condition (``?attention=<kind>``), so the count and the list it links to agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfillment.models import Provider
from app.fulfillment.queues import DELIVERING, QUEUES, stuck_condition
from app.i18n import N_
from app.jobs import STALLED_AFTER_SECONDS
from app.orders import states
from app.orders.models import OrderLine
from app.orders.states import LineStatus

# A paid line normally leaves the queue within seconds; one queued this long means dispatch is not running
# (no worker, provider inactive, no provider service) and a person should look.
QUEUED_TOO_LONG = timedelta(minutes=15)


class Attention(StrEnum):
    FAILED = "failed"
    ON_HOLD = "on_hold"
    NEEDS_REVIEW = "needs_review"
    STUCK = "stuck"
    QUEUED_TOO_LONG = "queued_too_long"


ATTENTION_LABELS = {
    Attention.FAILED: N_("Failed lines"),
    Attention.ON_HOLD: N_("Lines on hold"),
    Attention.NEEDS_REVIEW: N_("Needs review (unknown dispatch)"),
    Attention.STUCK: N_("Stuck (no progress)"),
    Attention.QUEUED_TOO_LONG: N_("Queued for more than %(minutes)d minutes"),
}


def _queue_states(key: str) -> frozenset[LineStatus]:
    return next(queue.states for queue in QUEUES if queue.key == key)


# Every state some kind of trouble is in: each condition below holds only for lines in one of these.
ATTENTION_STATES = (
    _queue_states(states.FAILED)
    | _queue_states(states.ON_HOLD)
    | _queue_states(states.NEEDS_REVIEW)
    | DELIVERING
    | {LineStatus.QUEUED}
)


def attention_condition(kind: Attention, *, now: datetime, stuck_after: timedelta) -> sa.ColumnElement[bool]:
    """The lines of one kind of trouble (the board's queues, as app/orders/states.py assigns states to them)."""
    if kind == Attention.STUCK:
        return stuck_condition(now, stuck_after)
    if kind == Attention.QUEUED_TOO_LONG:
        return sa.and_(
            OrderLine.fulfillment_status == LineStatus.QUEUED, OrderLine.status_changed_at < now - QUEUED_TOO_LONG
        )
    queue = {Attention.FAILED: states.FAILED, Attention.ON_HOLD: states.ON_HOLD}.get(kind, states.NEEDS_REVIEW)
    return OrderLine.fulfillment_status.in_(_queue_states(queue))


async def attention_counts(session: AsyncSession, *, now: datetime, stuck_after: timedelta) -> dict[Attention, int]:
    """Lines of each kind, in one statement over the lines in the states some kind needs (read by the status
    index: the finished lines, nearly all of them, are never read)."""
    counts = [
        sa.func.count().filter(attention_condition(kind, now=now, stuck_after=stuck_after)).label(kind.value)
        for kind in Attention
    ]
    troubled = OrderLine.fulfillment_status.in_(ATTENTION_STATES)
    row = (await session.execute(sa.select(*counts).select_from(OrderLine).where(troubled))).one()
    return {kind: int(row._mapping[kind.value]) for kind in Attention}


@dataclass(frozen=True)
class WorkerHealth:
    alive: bool
    last_heartbeat: datetime | None


async def worker_health(session: AsyncSession, *, now: datetime) -> WorkerHealth:
    """Alive: some worker refreshed its heartbeat within the time after which its jobs count as stalled."""
    last = await session.scalar(sa.text("SELECT max(last_heartbeat) FROM procrastinate_workers"))
    alive = last is not None and now - last < timedelta(seconds=STALLED_AFTER_SECONDS)
    return WorkerHealth(alive, last)


def low_balance_condition() -> sa.ColumnElement[bool]:
    """Active providers whose last synced balance is under their threshold (``Provider.is_low_on_balance``)."""
    return sa.and_(
        Provider.is_active.is_(True),
        Provider.balance.is_not(None),
        Provider.balance < Provider.low_balance_threshold,
    )


async def stuck_among(
    session: AsyncSession, line_ids: Sequence[int], *, now: datetime, stuck_after: timedelta
) -> set[int]:
    """Which of these lines are stuck (the board's and the dashboard's condition)."""
    if not line_ids:
        return set()
    condition = stuck_condition(now, stuck_after)
    return set(await session.scalars(sa.select(OrderLine.id).where(OrderLine.id.in_(line_ids), condition)))
