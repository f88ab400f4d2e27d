"""A customer's Instagram profiles as the portal's "Metrics" page and the customer's admin page show them.

One entry per profile the customer's paid Instagram lines target (a profile link, as the tracking page decides):
the snapshot series of followers, following and posts over the last 90 days, the starts of the customer's
orders for it, and the follower growth over 7, 30 and 90 days. Where no snapshot exists (Instagram shows us
only business and creator accounts), the followers come from the provider's start count and what it reported
delivered, and the entry says so (``source = PROVIDER``).

Growth over N days is the latest count minus the latest count at or before the cutoff (now - N days); without a
count that old, or without one since, there is "not enough history" (None).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Category, Platform, Service
from app.instagram.chart import ChartPoint, SeriesChart, series_chart
from app.instagram.profiles import profile_handle, snapshots_enabled
from app.instagram.snapshots import CHART_POINTS, CHART_WINDOW, snapshots_for
from app.orders.models import Order, OrderLine

GROWTH_DAYS = (7, 30, 90)
PROFILES_SHOWN = 20
LINES_READ = 2000
# Snapshots are taken every few minutes; the chart keeps the latest of each bin, at most CHART_POINTS of them.
BIN = CHART_WINDOW / CHART_POINTS
BIN_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


class CountSource(StrEnum):
    SNAPSHOTS = "snapshots"  # Instagram's own counts, recorded by the snapshot job
    PROVIDER = "provider"  # the provider's start count plus what it delivered


@dataclass(frozen=True)
class OrderStart:
    at: datetime
    number: str


@dataclass(frozen=True)
class Growth:
    days: int
    change: int | None  # None: not enough history


@dataclass(frozen=True)
class ProfileMetrics:
    handle: str
    source: CountSource
    starts: tuple[OrderStart, ...]
    growth: tuple[Growth, ...]
    followers: SeriesChart | None
    following: SeriesChart | None
    media: SeriesChart | None


@dataclass(frozen=True)
class ProfileLine:
    number: str
    started_at: datetime
    start_count: int | None
    delivered: int
    progress_at: datetime | None


def growth_over(points: Sequence[ChartPoint], now: datetime, days: int) -> int | None:
    """The latest count minus the latest at or before ``now - days`` (``points`` oldest first); None without
    a count that old or without one after it."""
    cutoff = now - timedelta(days=days)
    before = [point for point in points if point.at <= cutoff]
    if not before or points[-1].at <= cutoff:
        return None
    return points[-1].value - before[-1].value


def provider_points(lines: Sequence[ProfileLine]) -> list[ChartPoint]:
    """Followers as the provider saw them: each line's start count when it started, and after what it delivered."""
    points: list[ChartPoint] = []
    for line in lines:
        if line.start_count is None:
            continue
        points.append(ChartPoint(line.started_at, line.start_count))
        if line.progress_at is not None and line.progress_at > line.started_at:
            points.append(ChartPoint(line.progress_at, line.start_count + line.delivered))
    return sorted(points, key=lambda point: point.at)


async def _profile_lines(session: AsyncSession, customer_id: int) -> dict[str, list[ProfileLine]]:
    """The customer's paid Instagram profile lines by handle, oldest start first; the latest profiles first."""
    rows = await session.execute(
        sa.select(
            Order.number,
            sa.func.coalesce(OrderLine.dispatched_at, Order.paid_at),
            OrderLine.link,
            OrderLine.start_count,
            OrderLine.quantity,
            OrderLine.remains,
            sa.func.coalesce(OrderLine.finished_at, OrderLine.last_progress_at),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(Service, Service.id == OrderLine.service_id)
        .join(Category, Category.id == Service.category_id)
        .where(Order.customer_id == customer_id, Order.paid_at.is_not(None), Category.platform == Platform.INSTAGRAM)
        .order_by(Order.paid_at.desc(), OrderLine.id.desc())
        .limit(LINES_READ)
    )
    by_handle: dict[str, list[ProfileLine]] = {}
    for number, started_at, link, start_count, quantity, remains, progress_at in rows:
        handle = profile_handle(link)
        if handle is None or (handle not in by_handle and len(by_handle) >= PROFILES_SHOWN):
            continue
        delivered = max(0, quantity - remains) if remains is not None else 0
        by_handle.setdefault(handle, []).insert(0, ProfileLine(number, started_at, start_count, delivered, progress_at))
    return by_handle


SERIES = sa.text(
    "SELECT DISTINCT ON (handle, date_bin(:bin, taken_at, :origin))"
    " handle, taken_at, followers, following, media_count FROM instagram_snapshot"
    " WHERE handle = ANY(:handles) AND taken_at >= :since"
    " ORDER BY handle, date_bin(:bin, taken_at, :origin), taken_at DESC"
)
ANCHORS = sa.text(
    "SELECT h.handle, s.taken_at, s.followers FROM unnest(CAST(:handles AS text[])) AS h(handle)"
    " CROSS JOIN unnest(CAST(:cutoffs AS timestamptz[])) AS c(cutoff)"
    " CROSS JOIN LATERAL (SELECT taken_at, followers FROM instagram_snapshot"
    "   WHERE handle = h.handle AND taken_at <= c.cutoff ORDER BY taken_at DESC LIMIT 1) AS s"
)


async def _snapshots(
    session: AsyncSession, handles: list[str], now: datetime
) -> tuple[dict[str, list[tuple[datetime, int, int, int]]], dict[str, list[ChartPoint]]]:
    """The chart series per handle (oldest first), and the follower counts at the growth cutoffs."""
    series: dict[str, list[tuple[datetime, int, int, int]]] = defaultdict(list)
    rows = await session.execute(
        SERIES, {"bin": BIN, "origin": BIN_ORIGIN, "handles": handles, "since": now - CHART_WINDOW}
    )
    for handle, taken_at, followers, following, media_count in rows:
        series[handle].append((taken_at, followers, following, media_count))
    anchors: dict[str, list[ChartPoint]] = defaultdict(list)
    cutoffs = [now - timedelta(days=days) for days in GROWTH_DAYS]
    for handle, taken_at, followers in await session.execute(ANCHORS, {"handles": handles, "cutoffs": cutoffs}):
        anchors[handle].append(ChartPoint(taken_at, followers))
    return series, anchors


async def customer_profile_metrics(session: AsyncSession, customer_id: int, now: datetime) -> list[ProfileMetrics]:
    """The metrics of each Instagram profile the customer ordered for, the most recently ordered first."""
    lines = await _profile_lines(session, customer_id)
    if not lines:
        return []
    series, anchors = await _snapshots(session, list(lines), now)
    return [
        _profile_metrics(handle, handle_lines, series.get(handle), anchors.get(handle), now)
        for handle, handle_lines in lines.items()
    ]


def _profile_metrics(
    handle: str,
    lines: Sequence[ProfileLine],
    rows: list[tuple[datetime, int, int, int]] | None,
    anchors: list[ChartPoint] | None,
    now: datetime,
) -> ProfileMetrics:
    """One profile's entry: Instagram's counts when there are any (even none recent), else the provider's."""
    starts = tuple(sorted({OrderStart(line.started_at, line.number) for line in lines}, key=_at))
    start_times = [start.at for start in starts]
    snapshots = rows or []
    if rows is not None or anchors is not None:
        source = CountSource.SNAPSHOTS
        followers = [ChartPoint(at, count) for at, count, _following, _media in snapshots]
        counted = sorted({*(anchors or []), *followers}, key=_at)
    else:
        source = CountSource.PROVIDER
        counted = provider_points(lines)
        followers = [point for point in counted if point.at >= now - CHART_WINDOW]
    return ProfileMetrics(
        handle=handle,
        source=source,
        starts=starts,
        growth=tuple(Growth(days, growth_over(counted, now, days)) for days in GROWTH_DAYS),
        followers=series_chart(followers, start_times),
        following=series_chart([ChartPoint(row[0], row[2]) for row in snapshots], start_times),
        media=series_chart([ChartPoint(row[0], row[3]) for row in snapshots], start_times),
    )


def _at(item: ChartPoint | OrderStart) -> datetime:
    return item.at


LOOK_BACK = timedelta(days=7)  # snapshots from before the order (an earlier one for the same profile) give context


@dataclass(frozen=True)
class LineChart:
    chart: SeriesChart
    source: CountSource


async def line_chart(session: AsyncSession, line: OrderLine) -> LineChart | None:
    """The follower chart of a line's Instagram profile, the order's start marked; None without enough data.

    The provider's start count at dispatch is a point of its own when no snapshot is that old. While snapshots
    are recorded but none exists for the profile (Instagram shows only business and creator accounts), the
    chart is the provider's: its start count and what it reported delivered since, labelled as such.
    """
    handle = profile_handle(line.link)
    started = line.dispatched_at
    if handle is None or started is None:
        return None
    points = [ChartPoint(s.taken_at, s.followers) for s in await snapshots_for(session, handle, started - LOOK_BACK)]
    source = CountSource.SNAPSHOTS
    if not points and snapshots_enabled():
        source = CountSource.PROVIDER
        progress_at = line.finished_at or line.last_progress_at
        delivered = max(0, line.quantity - line.remains) if line.remains is not None else 0
        points = provider_points([ProfileLine("", started, line.start_count, delivered, progress_at)])
    elif line.start_count is not None and not any(point.at <= started for point in points):
        points.insert(0, ChartPoint(started, line.start_count))
    chart = series_chart(points, [started])
    return LineChart(chart, source) if chart is not None else None
