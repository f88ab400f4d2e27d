"""Putting lines in the dispatch queue: one dispatch job per queued line, deferred in the caller's unit of work.

Whatever moves a line to ``queued`` (payment, a staff retry or resume, a dispatch whose request never left)
calls :func:`queue_dispatch` in the same unit of work, so the job exists exactly when the line is queued.
Each line has its own queueing lock: a second job for a line already waiting collapses into the first. A job that
sends other queued lines along with its own takes their waiting jobs too (:func:`waiting_job_of`, locked with the
lines) and drops them in the same unit of work (:func:`drop_dispatch_jobs`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from app.db.row_writes import Companion
from app.jobs import jobs_unless_waiting
from app.uow import UnitOfWork

DISPATCH_TASK = "fulfillment.dispatch_line"
DISPATCH_QUEUE = "dispatch"
FULFILLMENT_QUEUE = "fulfillment"
# The periodic status poll; deferred at once when staff ask about a line now (one waiting run is enough).
POLL_TASK = "fulfillment.poll_providers"
POLL_LOCK = "poll-providers"

# A request that never left is sent again after 10 s, 20 s, 40 s … at most 30 minutes, with jitter.
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 30 * 60.0


LOCK_PREFIX = "dispatch-line-"
# procrastinate's job table, as far as taking another line's waiting dispatch job needs it.
JOBS = sa.table(
    "procrastinate_jobs",
    sa.column("id", sa.BigInteger),
    sa.column("queueing_lock", sa.Text),
    sa.column("status"),
    sa.column("scheduled_at", sa.DateTime(timezone=True)),
)


def dispatch_lock(line_id: int) -> str:
    return f"{LOCK_PREFIX}{line_id}"


def waiting_job_of(line_id: InstrumentedAttribute[int]) -> sa.ColumnElement[bool]:
    """Join condition: the line's dispatch job that waits to run now (not one a worker runs, nor a later retry)."""
    return sa.and_(
        JOBS.c.queueing_lock == sa.literal(LOCK_PREFIX) + sa.cast(line_id, sa.Text),
        JOBS.c.status == sa.literal_column("'todo'::procrastinate_job_status"),
        sa.or_(JOBS.c.scheduled_at.is_(None), JOBS.c.scheduled_at <= sa.func.now()),
    )


async def drop_dispatch_jobs(uow: UnitOfWork, job_ids: Iterable[int]) -> None:
    """Waiting dispatch jobs whose lines another job sends: gone when the caller's unit of work commits."""
    ids = sorted(set(job_ids))
    if ids:
        await uow.session.execute(
            sa.text("SELECT procrastinate_cancel_job_v1(id, false, true) FROM unnest(CAST(:ids AS bigint[])) AS id"),
            {"ids": ids},
        )


def dispatch_backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """How long a line waits before its ``attempt``-th failed send (1, 2, …) is tried again.

    Exponential with "equal jitter": half the delay fixed, half random, so lines refused together by a provider
    that was down do not all come back in the same second.
    """
    exponent = max(attempt, 1) - 1
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** min(exponent, 32))
    draw = (rng or random).random()
    return timedelta(seconds=delay / 2 + draw * delay / 2)


def _dispatch_jobs(line_ids: Iterable[int]) -> list[tuple[dict[str, Any], str]]:
    return [({"line_id": line_id}, dispatch_lock(line_id)) for line_id in sorted(set(line_ids))]


async def queue_dispatch(uow: UnitOfWork, line_ids: Iterable[int], *, at: datetime | None = None) -> None:
    """A dispatch job per line (``at``: not before then), committed with the caller's unit of work.

    A line that already has a job waiting keeps that one (its queueing lock is taken). One statement for all
    the lines: paying an order queues every line of it at once.
    """
    await uow.defer_unless_waiting(DISPATCH_TASK, _dispatch_jobs(line_ids), queue=DISPATCH_QUEUE, scheduled_at=at)


def dispatch_with_write(line_ids: Iterable[int]) -> Companion:
    """:func:`queue_dispatch` as a companion of the command's write (``UnitOfWork.write``)."""
    return jobs_unless_waiting("dispatch", DISPATCH_TASK, _dispatch_jobs(line_ids), queue=DISPATCH_QUEUE)
