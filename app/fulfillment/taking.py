"""Which lines a dispatch job takes, locked in the house order (an order before its lines, never a line alone).

``take_line`` (``app.fulfillment.dispatch``) asks here: its own line, waited for briefly behind a sibling's
dispatch (:func:`lock_queued`); the other waiting lines of the same provider it may send along, with their
waiting jobs (:func:`lines_to_take_along`); and, when its job runs again after its worker died, the lines of its
last batch still left dispatching (:func:`left_in_batch`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased, lazyload

from app.fulfillment.models import ProviderService
from app.fulfillment.queueing import JOBS, waiting_job_of
from app.orders.models import EventKind, Order, OrderEvent, OrderLine
from app.orders.states import ACTIVE_UPSTREAM, LineStatus

# How long taking a line waits for its order row (held by a sibling line's dispatch or by staff).
ORDER_LOCK_WAIT_MS = 2000
LOCK_NOT_AVAILABLE = "55P03"


async def lock_queued(session: AsyncSession, line_id: int) -> LineStatus | None:
    """The line's status with its order and it row-locked (house order), or None when it cannot be had now.

    The order row is locked first, on its own: a line is never locked by a transaction that does not hold its order
    (a stray line lock would deadlock against the order's holder locking all of its lines). The order is waited
    for, briefly: its other lines' dispatches hold it only for their short units of work, and bouncing off it (a
    retry a second later) cost more than the wait. A transaction holding it longer (staff at work) makes this one
    give up after ``ORDER_LOCK_WAIT_MS``.
    """
    order_of_line = sa.select(Order.id).join(OrderLine, OrderLine.order_id == Order.id).where(OrderLine.id == line_id)
    order_id = await session.scalar(order_of_line.with_for_update(of=Order.__table__, skip_locked=True))
    if order_id is None:  # held by another transaction (or no such line)
        order_id = await session.scalar(sa.select(OrderLine.order_id).where(OrderLine.id == line_id))
        if order_id is None:
            return None
        try:
            async with session.begin_nested():
                await session.execute(sa.text(f"SET LOCAL lock_timeout = '{ORDER_LOCK_WAIT_MS}ms'"))
                await session.execute(sa.select(Order.id).where(Order.id == order_id).with_for_update(of=Order))
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                return None
            raise
        await session.execute(sa.text("SET LOCAL lock_timeout TO DEFAULT"))
    stmt = sa.select(OrderLine.fulfillment_status).where(OrderLine.id == line_id).with_for_update(skip_locked=True)
    status: LineStatus | None = await session.scalar(stmt)
    return status


# Built once: a fresh alias per statement would cost its column proxies and a new cache key every time.
_LIVE = aliased(OrderLine, name="live")


def live_upstream(line: type[OrderLine] | OrderLine, exclude_id: InstrumentedAttribute[int] | int) -> sa.Exists:
    """Another line for the same link and provider service is live at the provider."""
    return sa.exists().where(
        _LIVE.id != exclude_id,
        _LIVE.provider_service_id == line.provider_service_id,
        _LIVE.link == line.link,
        _LIVE.fulfillment_status.in_(ACTIVE_UPSTREAM),
    )


async def link_is_live(session: AsyncSession, line: OrderLine) -> bool:
    return bool(await session.scalar(sa.select(live_upstream(line, line.id))))


async def lines_to_take_along(session: AsyncSession, line: OrderLine, limit: int) -> list[tuple[OrderLine, int]]:
    """Up to ``limit`` other queued lines of the line's provider whose jobs wait to run now, with those jobs' ids.

    Their orders and jobs are locked with ``SKIP LOCKED`` (whatever another transaction holds is left: a worker
    fetching the job, a sibling line's dispatch, staff), then the lines themselves, still queued, under their
    orders' locks. A line whose link and provider service is live upstream, or already in the batch, is left for
    its own job.
    """
    candidates = await session.execute(
        sa.select(OrderLine.id, JOBS.c.id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(JOBS, waiting_job_of(OrderLine.id))
        .where(
            OrderLine.provider_id == line.provider_id,
            OrderLine.fulfillment_status == LineStatus.QUEUED,
            OrderLine.provider_service_id.is_not(None),
            OrderLine.id != line.id,
            ~live_upstream(OrderLine, OrderLine.id),
        )
        .order_by(OrderLine.id)
        .limit(limit)
        .with_for_update(of=[Order.__table__, JOBS], skip_locked=True)
    )
    jobs: dict[int, int] = dict(candidates.tuples().all())
    if not jobs:
        return []
    rows = await session.scalars(
        sa.select(OrderLine)
        .where(OrderLine.id.in_(jobs), OrderLine.fulfillment_status == LineStatus.QUEUED)
        .order_by(OrderLine.id)
        .options(lazyload("*"))
        .with_for_update(of=OrderLine.__table__, skip_locked=True)
    )
    seen = {(line.link, line.provider_service_id)}
    taken = []
    for companion in rows:
        key = (companion.link, companion.provider_service_id)
        if key not in seen:
            seen.add(key)
            taken.append((companion, jobs[companion.id]))
    return taken


async def upstream_service_ids(session: AsyncSession, lines: list[OrderLine]) -> dict[int, str]:
    """The provider's service ids of the lines' provider services."""
    ids = {line.provider_service_id for line in lines if line.provider_service_id is not None}
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(ProviderService.id, ProviderService.external_id).where(ProviderService.id.in_(ids))
    )
    return dict(rows.tuples().all())


async def left_in_batch(session: AsyncSession, leader_id: int) -> list[int]:
    """Lines still dispatching that were taken by the line's job in its last batch (``data.batch`` on the event)."""
    batch_of = (
        sa.select(OrderEvent.data["batch"].astext)
        .where(
            OrderEvent.line_id == OrderLine.id,
            OrderEvent.kind == EventKind.LINE_STATUS,
            OrderEvent.to_state == LineStatus.DISPATCHING.value,
        )
        .order_by(OrderEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = await session.scalars(
        sa.select(OrderLine.id)
        .where(
            OrderLine.fulfillment_status == LineStatus.DISPATCHING,
            OrderLine.id != leader_id,
            batch_of == str(leader_id),
        )
        .order_by(OrderLine.id)
    )
    return list(rows)
