"""The job queue (procrastinate on our PostgreSQL): the app object, transactional deferral, stalled-job recovery.

Domain modules register tasks on ``job_app`` in their ``jobs.py`` and list themselves in JOB_MODULES.
State changes defer their jobs with :func:`defer_in_transaction`, inside the same transaction, so a job exists
exactly when the change that caused it was committed.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.manager import JobManager
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.engine import create_engine, session_factory
from app.db.row_writes import Companion
from app.db.urls import conninfo

log = structlog.get_logger(__name__)

# Modules whose import registers tasks on job_app.
JOB_MODULES: tuple[str, ...] = (
    "app.jobs",
    "app.fulfillment.jobs",
    "app.fulfillment.upkeep",
    "app.payments.jobs",
    "app.instagram.jobs",
    "app.analytics.jobs",
    "app.notifications.jobs",
    "app.invoicing.jobs",
    "app.lexoffice.jobs",
    "app.gdpr.jobs",
)

# A worker refreshes its heartbeat every 10 s; one silent for this long is dead and its jobs are retried.
STALLED_AFTER_SECONDS = 60

job_app = App(connector=PsycopgConnector())

# The database the worker works on (set by ``connected_to``); jobs reach it through ``job_sessions``.
_job_database: list[str] = []
# Pooled engines per event loop (a pooled connection belongs to the loop that opened it), then per database.
_job_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncEngine]] = weakref.WeakKeyDictionary()


def load_job_modules() -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)


@contextmanager
def connected_to(url: str) -> Iterator[App]:
    """Point job_app at a database for the duration of the block (open it with ``open_async``)."""
    load_job_modules()
    connector = PsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=10)
    _job_database.append(url)
    try:
        with job_app.replace_connector(connector) as app:
            yield app
    finally:
        _job_database.remove(url)


def no_live_job(lock_prefix: str, id_column: str) -> sa.TextClause:
    """SQL condition: no job waiting or running under the queueing lock ``lock_prefix`` + the row's id (for sweeps
    that give rows without a job one)."""
    return sa.text(
        f"NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.queueing_lock = :prefix || {id_column}::text "  # noqa: S608 - a column name from our code
        "AND j.status IN ('todo', 'doing'))"
    ).bindparams(prefix=lock_prefix)


def job_sessions() -> async_sessionmaker[AsyncSession]:
    """Sessions on the worker's database, for jobs: one pooled engine per database and event loop.

    A worker runs many short transactions per job; opening a connection for each (~10 ms with its settings)
    cost more than the work. The pool holds at most as many connections as jobs run at once (plus overflow).
    """
    if not _job_database:
        raise RuntimeError("no job database: run jobs inside connected_to(url)")
    url = _job_database[-1]
    engines = _job_engines.setdefault(asyncio.get_running_loop(), {})
    if url not in engines:
        engines[url] = create_engine(url)
    return session_factory(engines[url])


async def dispose_job_engines() -> None:
    """Close the pooled job connections of the running event loop (a worker that stops calls it)."""
    for engine in _job_engines.pop(asyncio.get_running_loop(), {}).values():
        await engine.dispose()


async def defer_in_transaction(
    session: AsyncSession,
    task_name: str,
    args: dict[str, Any] | None = None,
    *,
    queue: str = "default",
    priority: int = 0,
    lock: str | None = None,
    queueing_lock: str | None = None,
    scheduled_at: datetime | None = None,
) -> int:
    """Insert a job through procrastinate's own SQL function, on the caller's connection and transaction."""
    stmt = sa.text(
        "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, :qlock,"
        " CAST(:args AS jsonb), CAST(:scheduled_at AS timestamptz))]::procrastinate_job_to_defer_v1[]))"
    )
    job_id = await session.scalar(
        stmt,
        {
            "queue": queue,
            "task": task_name,
            "priority": priority,
            "lock": lock,
            "qlock": queueing_lock,
            "args": json.dumps(args or {}),
            "scheduled_at": scheduled_at,
        },
    )
    return int(job_id)


def _unless_waiting(prefix: str) -> str:
    """procrastinate's insert (``procrastinate_defer_jobs_v1``), except that a job whose queueing lock is held by a
    job still waiting is skipped instead of failing the statement; parameters named with ``prefix``."""
    p = prefix
    return (
        "INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)"  # noqa: S608 - parameter names only
        f" SELECT :{p}queue, :{p}task, :{p}priority, NULL, job.qlock, job.args, CAST(:{p}scheduled_at AS timestamptz)"
        f" FROM unnest(CAST(:{p}qlocks AS text[]), CAST(:{p}args AS jsonb[])) AS job(qlock, args)"
        " ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING"
    )


_DEFER_UNLESS_WAITING = sa.text(_unless_waiting("") + " RETURNING id")


def _unless_waiting_params(
    prefix: str,
    task_name: str,
    jobs: Sequence[tuple[dict[str, Any], str]],
    *,
    queue: str,
    priority: int,
    scheduled_at: datetime | None,
) -> dict[str, Any]:
    return {
        f"{prefix}queue": queue,
        f"{prefix}task": task_name,
        f"{prefix}priority": priority,
        f"{prefix}qlocks": [queueing_lock for _args, queueing_lock in jobs],
        f"{prefix}args": [json.dumps(args) for args, _queueing_lock in jobs],
        f"{prefix}scheduled_at": scheduled_at,
    }


async def defer_unless_waiting(
    session: AsyncSession,
    task_name: str,
    jobs: Sequence[tuple[dict[str, Any], str]],
    *,
    queue: str = "default",
    priority: int = 0,
    scheduled_at: datetime | None = None,
) -> list[int]:
    """One job per ``(args, queueing_lock)``, all in one statement on the caller's connection and transaction.

    The insert procrastinate's ``procrastinate_defer_jobs_v1`` makes, except that a job whose queueing lock is
    held by a job still waiting is skipped instead of failing the statement: no savepoint per job, and a batch
    never aborts half-way. Returns the ids of the jobs inserted.
    """
    if not jobs:
        return []
    params = _unless_waiting_params("", task_name, jobs, queue=queue, priority=priority, scheduled_at=scheduled_at)
    return [int(job_id) for job_id in await session.scalars(_DEFER_UNLESS_WAITING, params)]


def jobs_unless_waiting(
    name: str,
    task_name: str,
    jobs: Sequence[tuple[dict[str, Any], str]],
    *,
    queue: str = "default",
    priority: int = 0,
    scheduled_at: datetime | None = None,
) -> Companion:
    """The jobs of :func:`defer_unless_waiting` as a companion of a write (``UnitOfWork.write``): no statement of
    their own, committed with it all the same."""
    params = _unless_waiting_params(
        f"{name}_", task_name, jobs, queue=queue, priority=priority, scheduled_at=scheduled_at
    )
    return Companion(name, _unless_waiting(f"{name}_"), params)


async def recover_stalled(manager: JobManager, seconds_since_heartbeat: float = STALLED_AFTER_SECONDS) -> list[int]:
    """Put the running jobs of dead workers back in the queue; returns their ids.

    procrastinate leaves such jobs in ``doing`` forever; a job whose worker stopped heartbeating is retried now.
    """
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    for job in stalled:
        await manager.retry_job(job)
        log.warning("stalled job retried", job_id=job.id, task=job.task_name, worker_id=job.worker_id)
    return [job.id for job in stalled if job.id is not None]


@job_app.periodic(cron="* * * * *", periodic_id="recover-stalled-jobs")
@job_app.task(name="system.recover_stalled_jobs", queue="system", pass_context=True, queueing_lock="recover-stalled")
async def recover_stalled_jobs(context: JobContext, timestamp: int) -> int:  # noqa: ARG001 - periodic signature
    return len(await recover_stalled(context.app.job_manager))
