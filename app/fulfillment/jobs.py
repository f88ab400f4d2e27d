"""Fulfillment jobs: dispatch a line (with others of its provider), sweep for lines nobody is dispatching, poll.

``dispatch_line`` jobs are deferred by the commands that queue a line (``app.fulfillment.queueing``), in the
same transaction; a job sends up to :data:`DISPATCH_BATCH` lines and drops the jobs of the others it took. The
sweep is the safety net: a queued line without a waiting job gets one, and a line left ``dispatching`` longer
than any request can take (its worker died) becomes ``dispatch_unknown``.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import structlog
from procrastinate import RetryStrategy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.fulfillment.dispatch import Taken, dispatch_line, give_up_unknown
from app.fulfillment.models import Provider, ProviderKind
from app.fulfillment.polling import poll_due_lines
from app.fulfillment.queueing import (
    DISPATCH_QUEUE,
    DISPATCH_TASK,
    FULFILLMENT_QUEUE,
    POLL_LOCK,
    POLL_TASK,
    dispatch_lock,
    queue_dispatch,
)
from app.jobs import job_app, job_sessions, no_live_job
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from app.providers.smm_v2 import Timeouts
from app.uow import unit_of_work, utc_now

log = structlog.get_logger(__name__)

# Longer than any dispatch request may take (connect + write + read timeouts): a line dispatching for this long
# has no live worker behind it.
DISPATCHING_STALE_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 1000
# Queued lines of one provider a dispatch job sends together (its own and those whose jobs wait behind it).
DISPATCH_BATCH = 50
PROVIDER_TIMEOUTS = Timeouts()


class LineBusy(Exception):
    """The line or its order is locked by another transaction for a moment: the job is retried shortly."""


@job_app.task(
    name=DISPATCH_TASK,
    queue=DISPATCH_QUEUE,
    retry=RetryStrategy(max_attempts=30, wait=1, retry_exceptions={LineBusy}),
)
async def dispatch_line_job(line_id: int) -> str:
    outcome = await dispatch_line(job_sessions(), line_id, timeouts=PROVIDER_TIMEOUTS, batch_size=DISPATCH_BATCH)
    if outcome == Taken.BUSY:
        raise LineBusy(f"line {line_id} is locked")
    return str(outcome)


async def sweep_dispatch(
    sessions: async_sessionmaker[AsyncSession], *, stale_after: timedelta = DISPATCHING_STALE_AFTER
) -> tuple[int, int]:
    """(queued lines given a dispatch job, lines left dispatching by a dead worker marked unknown)."""
    no_pending_job = no_live_job(dispatch_lock(0).removesuffix("0"), "order_line.id")
    async with unit_of_work(sessions) as uow:
        orphans = list(
            await uow.session.scalars(
                sa.select(OrderLine.id)
                .join(Provider, Provider.id == OrderLine.provider_id)
                .where(
                    OrderLine.fulfillment_status == LineStatus.QUEUED,
                    OrderLine.provider_service_id.is_not(None),
                    Provider.kind != ProviderKind.MANUAL,
                    Provider.is_active,
                    no_pending_job,
                )
                .order_by(OrderLine.id)
                .limit(SWEEP_BATCH)
            )
        )
        await queue_dispatch(uow, orphans)
    stale = list(
        await _scalars(
            sessions,
            sa.select(OrderLine.id)
            .where(
                OrderLine.fulfillment_status == LineStatus.DISPATCHING,
                OrderLine.status_changed_at < utc_now() - stale_after,
            )
            .order_by(OrderLine.id)
            .limit(SWEEP_BATCH),
        )
    )
    if stale:
        async with unit_of_work(sessions) as uow:
            await give_up_unknown(uow, stale, reason="dispatching for too long: the worker sending it stopped")
    if orphans or stale:
        log.warning("dispatch sweep", requeued=len(orphans), unknown=len(stale))
    return len(orphans), len(stale)


async def _scalars(sessions: async_sessionmaker[AsyncSession], stmt: sa.Select[tuple[int]]) -> list[int]:
    async with sessions() as session:
        return list(await session.scalars(stmt))


@job_app.periodic(cron="* * * * *", periodic_id="sweep-dispatch")
@job_app.task(name="fulfillment.sweep_dispatch", queue=FULFILLMENT_QUEUE, queueing_lock="sweep-dispatch")
async def sweep_dispatch_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    requeued, unknown = await sweep_dispatch(job_sessions())
    return f"requeued {requeued}, unknown {unknown}"


@job_app.periodic(cron="* * * * * */10", periodic_id="poll-providers")
@job_app.task(name=POLL_TASK, queue=FULFILLMENT_QUEUE, queueing_lock=POLL_LOCK)
async def poll_providers_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    report = await poll_due_lines(job_sessions(), timeouts=PROVIDER_TIMEOUTS)
    return f"asked {report.asked}, changed {report.changed}, finished {report.finished}"
