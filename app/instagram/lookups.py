"""What the snapshot job may ask this run: the hour's call budget, a back-off, and the handles due.

Read from ``instagram_lookup`` (every call and its answer) and ``instagram_snapshot``: a handle counted within
``SMPLAT_INSTAGRAM_REFRESH_MINUTES`` is fresh, one Instagram did not show within the last day is not asked about
again (non-business profiles would otherwise spend the budget every run). The rest are due, those asked about
longest ago first, so that a small budget still reaches every profile in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.instagram.graph_api import LookupOutcome
from app.instagram.models import InstagramLookup, InstagramSnapshot
from app.instagram.profiles import ProfileTarget

BUDGET_WINDOW = timedelta(hours=1)
NOT_VISIBLE_FOR = timedelta(days=1)
KEPT_FOR = timedelta(days=2)


@dataclass(frozen=True)
class RunPlan:
    due: list[ProfileTarget]  # at most the calls left, longest unasked first
    calls_left: int
    paused_until: datetime | None  # a back-off still running: nothing is asked


async def paused_until(session: AsyncSession, now: datetime) -> datetime | None:
    resume_at: datetime | None = await session.scalar(sa.select(sa.func.max(InstagramLookup.resume_at)))
    return resume_at if resume_at is not None and resume_at > now else None


async def calls_left(session: AsyncSession, now: datetime, per_hour: int) -> int:
    spent = await session.scalar(sa.select(sa.func.count()).where(InstagramLookup.asked_at > now - BUDGET_WINDOW))
    return max(0, per_hour - (spent or 0))


async def _skipped(session: AsyncSession, handles: list[str], now: datetime, refresh: timedelta) -> set[str]:
    fresh = sa.select(InstagramSnapshot.handle).where(
        InstagramSnapshot.handle.in_(handles), InstagramSnapshot.taken_at > now - refresh
    )
    hidden = sa.select(InstagramLookup.handle).where(
        InstagramLookup.handle.in_(handles),
        InstagramLookup.outcome == LookupOutcome.NOT_VISIBLE,
        InstagramLookup.asked_at > now - NOT_VISIBLE_FOR,
    )
    return set((await session.scalars(sa.union(fresh, hidden))).all())


async def _last_asked(session: AsyncSession, handles: list[str]) -> dict[str, datetime]:
    rows = await session.execute(
        sa.select(InstagramLookup.handle, sa.func.max(InstagramLookup.asked_at))
        .where(InstagramLookup.handle.in_(handles))
        .group_by(InstagramLookup.handle)
    )
    return dict(rows.tuples().all())


async def plan_run(
    session: AsyncSession, targets: Sequence[ProfileTarget], now: datetime, settings: Settings
) -> RunPlan:
    pause = await paused_until(session, now)
    left = await calls_left(session, now, settings.instagram_calls_per_hour)
    if pause is not None or not targets or left == 0:
        return RunPlan([], left, pause)
    handles = [target.handle for target in targets]
    skipped = await _skipped(session, handles, now, timedelta(minutes=settings.instagram_refresh_minutes))
    asked = await _last_asked(session, handles)
    due = sorted(
        (target for target in targets if target.handle not in skipped),
        key=lambda target: (target.handle in asked, asked.get(target.handle, now)),
    )
    return RunPlan(due[:left], left, None)


async def prune_lookups(session: AsyncSession, now: datetime) -> None:
    """Forget calls older than anything above looks back at (a back-off still running is kept)."""
    await session.execute(
        sa.delete(InstagramLookup).where(
            InstagramLookup.asked_at < now - KEPT_FOR,
            sa.or_(InstagramLookup.resume_at.is_(None), InstagramLookup.resume_at < now),
        )
    )
