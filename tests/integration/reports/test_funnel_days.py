"""The funnel's daily visitor counts give every bucket's distinct visitors exactly, however late events arrive."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.analytics.funnel import copy_rows
from app.analytics.funnel_days import FUNNEL_DAYS, fold_funnel_day_changes
from app.analytics.models import FunnelDayChange

BUCKETS = ("day", "week", "month", "quarter")
KINDS = ("landing_view", "service_view", "checkout_started", "paid")
EVENTS = (
    "SELECT date_trunc('{bucket}', at AT TIME ZONE 'Europe/Berlin')::date, kind, {service}, "
    "count(DISTINCT visitor_id) FROM funnel_event GROUP BY 1, 2, 3 HAVING count(visitor_id) > 0"
)
KEPT = (
    "SELECT date_trunc('{bucket}', day::timestamp)::date, kind, {service}, sum(visitors) FROM ({days}) f "
    "WHERE by_service = {by_service} AND prev_day < date_trunc('{bucket}', day::timestamp)::date "
    "GROUP BY 1, 2, 3 HAVING sum(visitors) > 0"
)


def _events(count: int, seed: int) -> list[tuple[object, ...]]:
    """Events of a few visitors over a quarter and a half, in no order, some without a visitor or a service."""
    pick = random.Random(seed)
    start = datetime(2026, 9, 20, tzinfo=UTC)
    return [
        (
            start + timedelta(hours=pick.randrange(0, 24 * 110)),
            pick.choice(KINDS),
            pick.choice(("v1", "v2", "v3", "v4", "v5", None)),
            pick.choice((1, 2, None)),
            None,
        )
        for _ in range(count)
    ]


async def _counts(session: AsyncSession, query: str) -> set[tuple[object, ...]]:
    return set((await session.execute(sa.text(query))).tuples().all())


async def _assert_exact(session: AsyncSession) -> None:
    for bucket in BUCKETS:
        for by_service in (False, True):
            service = "service_id" if by_service else "NULL::bigint"
            kept = KEPT.format(bucket=bucket, service=service, days=FUNNEL_DAYS, by_service=str(by_service).lower())
            assert await _counts(session, kept) == await _counts(session, EVENTS.format(bucket=bucket, service=service))


@pytest.mark.usefixtures("clean_db")
async def test_every_bucket_counts_its_distinct_visitors_after_late_events(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    await copy_rows(engine, _events(150, seed=1))  # one statement, visitors seen many times in it
    await _assert_exact(session)
    await fold_funnel_day_changes(session)
    await session.commit()
    assert await session.scalar(sa.select(sa.func.count()).select_from(FunnelDayChange)) == 0
    for seed in (2, 3):  # late and early events, between days already counted
        await copy_rows(engine, _events(60, seed=seed))
    await _assert_exact(session)
    await fold_funnel_day_changes(session)
    await session.commit()
    await _assert_exact(session)
