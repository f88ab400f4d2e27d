"""Recording snapshots (a periodic job) and reading them back for a line's chart.

Lines looked at: Instagram lines whose target is a profile, while delivering and for a week after they
finished (followers drop off after a delivery; the chart shows it). One look per handle per run, whichever
lines share it, within the hour's call budget and the cache (app/instagram/lookups.py); a rate limit or a
refused token ends the run, a timeout or server error skips the handle until the next run (after
``MAX_FAILURES`` in a row the run ends: Meta is down, the rest would fail alike).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.catalog.models import Category, Platform, Service
from app.config import Settings
from app.instagram.commands import SNAPSHOT_ACTOR, record_lookup
from app.instagram.graph_api import GraphProfileStats, LookupOutcome
from app.instagram.lookups import plan_run, prune_lookups
from app.instagram.models import InstagramSnapshot
from app.instagram.profiles import ProfileTarget, profile_handle
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from app.uow import UnitOfWork, utc_now

log = structlog.get_logger(__name__)

DELIVERING = (LineStatus.DISPATCHED, LineStatus.IN_PROGRESS, LineStatus.ON_HOLD, LineStatus.NEEDS_REVIEW)
FINISHED = (LineStatus.COMPLETED, LineStatus.PARTIAL)
WATCH_AFTER_FINISH = timedelta(days=7)
BATCH = 500
CHART_WINDOW = timedelta(days=90)
CHART_POINTS = 500
MAX_FAILURES = 3


async def watched_targets(session: AsyncSession, now: datetime) -> list[ProfileTarget]:
    """One target per handle: the Instagram profile lines being delivered or finished within the last week."""
    rows = await session.execute(
        sa.select(OrderLine.id, OrderLine.link)
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
    for line_id, link in rows:
        handle = profile_handle(link)
        if handle is not None and handle not in targets:
            targets[handle] = ProfileTarget(handle=handle, line_id=line_id)
    return list(targets.values())


@dataclass
class RunReport:
    asked: int = 0
    recorded: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None  # why the run ended early: "paused", "rate_limited", "token_refused", "unavailable"

    def summary(self) -> str:
        told = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.outcomes.items()))
        return (
            f"asked {self.asked}, recorded {self.recorded}"
            + (f" ({told})" if told else "")
            + (f"; stopped: {self.stopped}" if self.stopped else "")
        )


async def record_snapshots(
    sessions: async_sessionmaker[AsyncSession], source: GraphProfileStats, settings: Settings
) -> RunReport:
    """Ask ``source`` about the watched profiles that are due, as far as the budget goes, and store the answers."""
    now = utc_now()
    async with sessions.begin() as session:
        await prune_lookups(session, now)
        plan = await plan_run(session, await watched_targets(session, now), now, settings)
    report = RunReport(stopped="paused" if plan.paused_until is not None else None)
    failures = 0
    for target in plan.due:
        lookup = await source.look_up(target.handle)
        async with sessions.begin() as session:
            if await record_lookup(UnitOfWork(session, clock=lambda: now), target, lookup, actor=SNAPSHOT_ACTOR):
                report.recorded += 1
        report.asked += 1
        report.outcomes[lookup.outcome.value] = report.outcomes.get(lookup.outcome.value, 0) + 1
        failures = failures + 1 if lookup.outcome == LookupOutcome.UNAVAILABLE else 0
        if lookup.stops_run or failures >= MAX_FAILURES:
            report.stopped = lookup.outcome.value
            break
    if report.asked or report.stopped:
        log.info("instagram snapshots", paused_until=plan.paused_until, calls_left=plan.calls_left, **vars(report))
    return report


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
