"""Putting lines in the dispatch queue: one dispatch job per queued line, deferred in the caller's unit of work.

Whatever moves a line to ``queued`` (payment, a staff retry or resume, a dispatch whose request never left)
calls :func:`queue_dispatch` in the same unit of work, so the job exists exactly when the line is queued.
Each line has its own queueing lock: a second job for a line already waiting collapses into the first.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from app.uow import UnitOfWork

DISPATCH_TASK = "fulfillment.dispatch_line"
DISPATCH_QUEUE = "dispatch"

# A request that never left is sent again after 10 s, 20 s, 40 s … at most 30 minutes, with jitter.
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_CAP_SECONDS = 30 * 60.0


def dispatch_lock(line_id: int) -> str:
    return f"dispatch-line-{line_id}"


def dispatch_backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """How long a line waits before its ``attempt``-th failed send (1, 2, …) is tried again.

    Exponential with "equal jitter": half the delay fixed, half random, so lines refused together by a provider
    that was down do not all come back in the same second.
    """
    exponent = max(attempt, 1) - 1
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** min(exponent, 32))
    draw = (rng or random).random()
    return timedelta(seconds=delay / 2 + draw * delay / 2)


async def queue_dispatch(uow: UnitOfWork, line_ids: Iterable[int], *, at: datetime | None = None) -> None:
    """A dispatch job per line (``at``: not before then), committed with the caller's unit of work.

    A line that already has a job waiting keeps that one (its queueing lock is taken). One statement for all
    the lines: paying an order queues every line of it at once.
    """
    jobs = [({"line_id": line_id}, dispatch_lock(line_id)) for line_id in sorted(set(line_ids))]
    await uow.defer_unless_waiting(DISPATCH_TASK, jobs, queue=DISPATCH_QUEUE, scheduled_at=at)
