"""Recording snapshots (a periodic job) and reading them back for a line's chart.

Lines looked at: Instagram lines whose target is a profile, while delivering and for a week after they
finished (followers drop off after a delivery; the chart shows it). One look per handle per run, whichever
lines share it; a run in the same second as another records nothing twice (unique handle + taken_at).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.catalog.models import Category, Platform, Service
from app.instagram.chart import ChartPoint, SeriesChart, series_chart
from app.instagram.models import InstagramSnapshot
from app.instagram.profiles import ProfileStats, ProfileTarget, profile_handle
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from app.uow import utc_now

log = structlog.get_logger(__name__)

DELIVERING = (LineStatus.DISPATCHED, LineStatus.IN_PROGRESS, LineStatus.ON_HOLD, LineStatus.NEEDS_REVIEW)
FINISHED = (LineStatus.COMPLETED, LineStatus.PARTIAL)
WATCH_AFTER_FINISH = timedelta(days=7)
BATCH = 500
CHART_WINDOW = timedelta(days=90)
CHART_POINTS = 500


async def watched_targets(session: AsyncSession, now: datetime) -> list[ProfileTarget]:
    """One target per handle: the Instagram profile lines being delivered or finished within the last week."""
    rows = await session.execute(
        sa.select(OrderLine.id, OrderLine.link, OrderLine.start_count, OrderLine.quantity, OrderLine.remains)
        .join(Service, Service.id == OrderLine.service_id)
        .join(Category, Category.id == Service.category_id)
        .where(
            Category.platform == Platform.INSTAGRAM,
            sa.or_(
                OrderLine.fulfillment_status.in_(DELIVERING),
                sa.and_(OrderLine.fulfillment_status.in_(FINISHED), OrderLine.finished_at >= now - WATCH_AFTER_FINISH),
            ),
        )
        .order_by(OrderLine.id.desc())
        .limit(BATCH)
    )
    targets: dict[str, ProfileTarget] = {}
    for line_id, link, start_count, quantity, remains in rows:
        handle = profile_handle(link)
        if handle is None or handle in targets:
            continue
        delivered = max(0, quantity - remains) if remains is not None else 0
        targets[handle] = ProfileTarget(handle=handle, line_id=line_id, start_count=start_count, delivered=delivered)
    return list(targets.values())


async def record_snapshots(sessions: async_sessionmaker[AsyncSession], source: ProfileStats) -> int:
    """Ask ``source`` about every watched profile and store what it says; returns the snapshots recorded."""
    now = utc_now()
    async with sessions() as session:
        targets = await watched_targets(session, now)
    recorded = 0
    for target in targets:
        counts = await source.counts(target)
        if counts is None:
            continue
        async with sessions.begin() as session:
            result = await session.execute(
                insert(InstagramSnapshot)
                .values(
                    line_id=target.line_id,
                    handle=target.handle,
                    taken_at=now,
                    followers=counts.followers,
                    following=counts.following,
                    media_count=counts.media_count,
                )
                .on_conflict_do_nothing(constraint="uq_instagram_snapshot_handle_taken_at")
            )
            recorded += result.rowcount or 0  # type: ignore[attr-defined]
    if targets:
        log.info("instagram snapshots", watched=len(targets), recorded=recorded)
    return recorded


async def snapshots_for(session: AsyncSession, handle: str, since: datetime) -> Sequence[InstagramSnapshot]:
    """A profile's snapshots from ``since`` on, oldest first (at most CHART_POINTS, the latest ones)."""
    latest = (
        sa.select(InstagramSnapshot)
        .where(InstagramSnapshot.handle == handle, InstagramSnapshot.taken_at >= since)
        .order_by(InstagramSnapshot.taken_at.desc())
        .limit(CHART_POINTS)
        .subquery()
    )
    picked = aliased(InstagramSnapshot, latest)
    return (await session.scalars(sa.select(picked).order_by(picked.taken_at))).all()


LOOK_BACK = timedelta(days=7)  # snapshots from before the order (an earlier one for the same profile) give context


async def line_chart(session: AsyncSession, line: OrderLine) -> SeriesChart | None:
    """The follower chart of a line's Instagram profile, the order's start marked; None without enough data.

    The provider's start count at dispatch is a point of its own when no snapshot is that old.
    """
    handle = profile_handle(line.link)
    started = line.dispatched_at
    if handle is None or started is None:
        return None
    points = [ChartPoint(s.taken_at, s.followers) for s in await snapshots_for(session, handle, started - LOOK_BACK)]
    if line.start_count is not None and not any(point.at <= started for point in points):
        points.insert(0, ChartPoint(started, line.start_count))
    return series_chart(points, [started])
