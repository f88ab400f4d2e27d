"""The fulfillment queues staff work from: what waits, what needs a decision, what is stuck."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, contains_eager, load_only, raiseload

from app.fulfillment.models import Provider
from app.i18n import N_
from app.orders import states
from app.orders.models import Order, OrderLine
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


# What the board shows of a line and its order; nothing else is loaded (no service, provider or customer rows,
# no provider API key to decrypt).
BOARD_COLUMNS = (
    OrderLine.id,
    OrderLine.order_id,
    OrderLine.position,
    OrderLine.service_name,
    OrderLine.quantity,
    OrderLine.remains,
    OrderLine.link,
    OrderLine.fulfillment_status,
    OrderLine.status_changed_at,
    OrderLine.last_progress_at,
    OrderLine.dispatched_at,
)


@dataclass(frozen=True)
class _Summary:
    count: int = 0
    oldest: datetime | None = None

    def add(self, count: int, oldest: datetime | None) -> _Summary:
        earliest = min((t for t in (self.oldest, oldest) if t is not None), default=None)
        return _Summary(self.count + count, earliest)


def provider_options() -> sa.Select[tuple[int, str]]:
    """Every provider by name: what lists and the board filter by."""
    return sa.select(Provider.id, Provider.name).order_by(Provider.name, Provider.id)


async def _summaries(
    session: AsyncSession, now: datetime, stuck_after: timedelta, scope: sa.ColumnElement[bool]
) -> tuple[dict[LineStatus, _Summary], _Summary]:
    """Count and oldest time in state of every queue state, and of the stuck lines (their age: since their last
    movement, as on their cards): one read of the status index."""
    queued_states = sorted({state for queue in QUEUES for state in queue.states})
    stuck = now - stuck_after > LAST_MOVEMENT
    rows = (
        await session.execute(
            sa.select(
                OrderLine.fulfillment_status,
                sa.func.count(),
                sa.func.min(OrderLine.status_changed_at),
                sa.func.count().filter(stuck),
                sa.func.min(LAST_MOVEMENT).filter(stuck),
            )
            .where(OrderLine.fulfillment_status.in_(queued_states), scope)
            .group_by(OrderLine.fulfillment_status)
        )
    ).all()
    by_state: dict[LineStatus, _Summary] = {}
    stuck_summary = _Summary()
    for status, count, oldest, stuck_count, stuck_oldest in rows:
        state = LineStatus(status)
        by_state[state] = _Summary(int(count), oldest)
        if state in DELIVERING:
            stuck_summary = stuck_summary.add(int(stuck_count), stuck_oldest)
    return by_state, stuck_summary


def _since(queue_key: str) -> sa.ColumnElement[datetime] | InstrumentedAttribute[datetime]:
    """A line's age on the board: since its last movement in the stuck queue, since its state changed elsewhere."""
    return LAST_MOVEMENT if queue_key == STUCK.key else OrderLine.status_changed_at


async def _previews(
    session: AsyncSession, conditions: dict[str, sa.ColumnElement[bool]], limit: int
) -> dict[str, list[OrderLine]]:
    """The first ``limit`` lines of each queue (oldest first, by :func:`_since`), with their order number.

    Two statements for all queues: the ids of each queue's first lines (UNION ALL of ordered, limited index reads),
    then those lines with what the board shows of them.
    """
    if not conditions:
        return {}
    firsts = [
        sa.select(OrderLine.id, _since(key).label("since"))
        .where(condition)
        .order_by(_since(key), OrderLine.id)
        .limit(limit)
        .subquery()
        for key, condition in conditions.items()
    ]
    picked = sa.union_all(
        *(
            sa.select(sa.literal(key).label("queue"), first.c.id, first.c.since)
            for key, first in zip(conditions, firsts, strict=True)
        )
    )
    order = (await session.execute(picked)).all()
    stmt = (
        sa.select(OrderLine)
        .join(OrderLine.order)
        .options(
            load_only(*BOARD_COLUMNS),
            contains_eager(OrderLine.order).load_only(Order.number).raiseload("*"),
            raiseload("*"),
        )
        .where(OrderLine.id.in_({row.id for row in order}))
    )
    lines = {line.id: line for line in (await session.scalars(stmt)).unique()}
    previews: dict[str, list[OrderLine]] = {key: [] for key in conditions}
    for row in sorted(order, key=lambda row: (row.since, row.id)):
        previews[row.queue].append(lines[row.id])
    return previews


async def fulfillment_queues(
    session: AsyncSession,
    *,
    stuck_after: timedelta,
    now: datetime | None = None,
    limit: int = QUEUE_PREVIEW,
    provider_id: int | None = None,
) -> list[Queue]:
    """The board's queues; with ``provider_id``, only the lines sent (or to be sent) to that provider."""
    now = now or datetime.now(UTC)
    scope = OrderLine.provider_id == provider_id if provider_id is not None else sa.true()
    by_state, stuck = await _summaries(session, now, stuck_after, scope)
    summaries: dict[str, _Summary] = {}
    conditions: dict[str, sa.ColumnElement[bool]] = {}
    for q in QUEUES:
        summary = _Summary()
        for state in q.states:
            summary = summary.add(by_state.get(state, _Summary()).count, by_state.get(state, _Summary()).oldest)
        summaries[q.key] = summary
        if summary.count:
            conditions[q.key] = sa.and_(OrderLine.fulfillment_status.in_(q.states), scope)
    summaries[STUCK.key] = stuck
    if stuck.count:
        conditions[STUCK.key] = sa.and_(stuck_condition(now, stuck_after), scope)
    previews = await _previews(session, conditions, limit)
    return [
        Queue(q.key, q.title, q.hint, summaries[q.key].count, summaries[q.key].oldest, previews.get(q.key, []))
        for q in (*QUEUES, STUCK)
    ]
