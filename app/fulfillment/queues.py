"""The fulfillment queues staff work from: what waits, what needs a decision, what is stuck."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.i18n import N_
from app.orders import states
from app.orders.models import OrderLine
from app.orders.states import LINE_STATES, LineStatus

QUEUE_PREVIEW = 25


@dataclass(frozen=True)
class QueueDefinition:
    key: str
    title: str  # catalog ids (N_): the board translates them
    hint: str

    @property
    def states(self) -> frozenset[LineStatus]:
        """The line states worked from this queue, as LINE_STATES declares them."""
        return frozenset(state for state, entry in LINE_STATES.items() if entry.queue == self.key)


QUEUES = (
    QueueDefinition(states.QUEUED, N_("Queued"), N_("paid, waiting for dispatch")),
    QueueDefinition(states.DISPATCHING, N_("Dispatching"), N_("request being sent")),
    QueueDefinition(
        states.NEEDS_REVIEW, N_("Needs review"), N_("may or may not exist at the provider: check and resolve")
    ),
    QueueDefinition(states.ON_HOLD, N_("On hold"), N_("held by staff or provider balance")),
    QueueDefinition(states.FAILED, N_("Failed"), N_("refused by the provider")),
    QueueDefinition(states.DELIVERING, N_("In progress"), N_("at the provider, delivering")),
)
STUCK = QueueDefinition("stuck", N_("Stuck"), N_("no progress for %(hours)d h or more"))
DELIVERING = QUEUES[-1].states


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    hint: str  # may contain %(hours)d: the stuck threshold
    count: int
    oldest: datetime | None
    lines: Sequence[OrderLine]


LAST_MOVEMENT = sa.func.coalesce(OrderLine.last_progress_at, OrderLine.dispatched_at, OrderLine.status_changed_at)


def stuck_condition(now: datetime, stuck_after: timedelta) -> sa.ColumnElement[bool]:
    """At the provider, and no progress reported (or no dispatch) for longer than ``stuck_after``."""
    return sa.and_(OrderLine.fulfillment_status.in_(DELIVERING), now - stuck_after > LAST_MOVEMENT)


async def _queue(
    session: AsyncSession,
    key: str,
    title: str,
    hint: str,
    condition: sa.ColumnElement[bool],
    limit: int,
    since: sa.ColumnElement[datetime] = OrderLine.status_changed_at,  # type: ignore[assignment]
) -> Queue:
    """Lines matching ``condition``, longest waiting first; ages count from ``since``."""
    summary = (await session.execute(sa.select(sa.func.count(), sa.func.min(since)).where(condition))).one()
    stmt = (
        sa.select(OrderLine)
        .join(OrderLine.order)
        .options(contains_eager(OrderLine.order))
        .where(condition)
        .order_by(since, OrderLine.id)
        .limit(limit)
    )
    lines = (await session.scalars(stmt)).unique().all()
    return Queue(key=key, title=title, hint=hint, count=int(summary[0]), oldest=summary[1], lines=lines)


async def fulfillment_queues(
    session: AsyncSession, *, stuck_after: timedelta, now: datetime | None = None, limit: int = QUEUE_PREVIEW
) -> list[Queue]:
    now = now or datetime.now(UTC)
    queues = [
        await _queue(session, q.key, q.title, q.hint, OrderLine.fulfillment_status.in_(q.states), limit) for q in QUEUES
    ]
    queues.append(await _queue(session, STUCK.key, STUCK.title, STUCK.hint, stuck_condition(now, stuck_after), limit))
    return queues


async def count_lines(session: AsyncSession, condition: sa.ColumnElement[bool]) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(OrderLine).where(condition)) or 0)
