"""The job queue on our PostgreSQL: jobs deferred in the caller's transaction, dead workers' jobs recovered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.urls import conninfo
from app.jobs import connected_to, defer_in_transaction, recover_stalled
from tests.conftest import TEST_SECRET


def job_rows(url: str) -> list[tuple[int, str, str]]:
    with psycopg.connect(conninfo(url)) as conn:
        return conn.execute("SELECT id, task_name, status::text FROM procrastinate_jobs ORDER BY id").fetchall()


def stalled_job(url: str) -> int:
    """A job left 'doing' by a worker whose last heartbeat was ten minutes ago."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        worker_id = conn.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '10 minutes') RETURNING id"
        ).fetchone()[0]
        return conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, status, args, worker_id, attempts) "
            "VALUES ('default', 'tests.some_task', 'doing', '{}', %s, 1) RETURNING id",
            (worker_id,),
        ).fetchone()[0]


async def test_job_exists_only_if_the_transaction_commits(session: AsyncSession, clean_db: str):
    await defer_in_transaction(session, "system.recover_stalled_jobs", {"timestamp": 0}, queue="system")
    await session.rollback()
    assert job_rows(clean_db) == []

    job_id = await defer_in_transaction(session, "system.recover_stalled_jobs", {"timestamp": 0}, queue="system")
    assert job_rows(clean_db) == []  # not visible to others before commit
    await session.commit()
    assert job_rows(clean_db) == [(job_id, "system.recover_stalled_jobs", "todo")]


async def test_jobs_of_a_dead_worker_are_put_back_in_the_queue(clean_db: str):
    job_id = stalled_job(clean_db)
    with connected_to(clean_db) as app:
        async with app.open_async():
            recovered = await recover_stalled(app.job_manager)
    assert recovered == [job_id]
    assert job_rows(clean_db) == [(job_id, "tests.some_task", "todo")]


async def test_jobs_of_a_live_worker_are_left_alone(clean_db: str):
    with psycopg.connect(conninfo(clean_db), autocommit=True) as conn:
        worker_id = conn.execute("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id").fetchone()[0]
        conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, status, args, worker_id) "
            "VALUES ('default', 'tests.busy', 'doing', '{}', %s)",
            (worker_id,),
        )
    with connected_to(clean_db) as app:
        async with app.open_async():
            assert await recover_stalled(app.job_manager) == []


async def test_the_running_worker_executes_the_recovery_job(session: AsyncSession, clean_db: str):
    stalled = stalled_job(clean_db)
    recovery = await defer_in_transaction(session, "system.recover_stalled_jobs", {"timestamp": 0}, queue="system")
    await session.commit()
    with connected_to(clean_db) as app:
        async with app.open_async():
            await app.run_worker_async(queues=["system"], wait=False, install_signal_handlers=False)
    statuses = {job_id: status for job_id, _task, status in job_rows(clean_db)}
    assert statuses[recovery] == "succeeded"
    assert statuses[stalled] == "todo"
    result = await session.scalar(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"))
    assert result == 0


def test_worker_command_starts_and_stops_on_sigterm(clean_db: str):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMPLAT_")}
    environment.update(SMPLAT_ENV="test", SMPLAT_SECRET_KEY=TEST_SECRET, SMPLAT_DATABASE_URL=clean_db)
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with psycopg.connect(conninfo(clean_db)) as conn:
                if conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0]:
                    break
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        with psycopg.connect(conninfo(clean_db)) as conn:  # it unregistered itself
            assert conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0] == 0
    finally:
        if process.poll() is None:
            process.kill()
