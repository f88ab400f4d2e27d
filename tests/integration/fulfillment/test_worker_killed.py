"""A real worker process killed with SIGKILL mid-batch, then restarted: nothing lost, nothing sent twice.

The worker (``python -m app worker``) dispatches paid lines to the sandbox provider, which answers slowly; it is
killed while requests are in flight. The dead worker's jobs are put back in the queue (what the periodic
recovery does once its heartbeat is old), a new worker finishes the batch. Every line ends dispatched, or
dispatch_unknown where the killed worker may have sent it; the sandbox's own order log has at most one order per
line, and every dispatched line's order is there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import ServiceKind
from app.db.urls import conninfo
from app.jobs import connected_to, recover_stalled
from app.orders.models import OrderLine
from app.orders.placing import LineInput
from app.orders.states import LineStatus
from app.sandbox.provider import Fault, FaultRule, SandboxProvider
from tests.conftest import TEST_SECRET
from tests.integration.fulfillment.conftest import Catalog
from tests.integration.fulfillment.helpers import new_link, paid_lines

ORDERS, LINES_PER_ORDER = 8, 5
SLOW_ANSWER = FaultRule(Fault.LATENCY, actions=("add",), probability=1.0, seconds=0.4)
SETTLED = {LineStatus.DISPATCHED, LineStatus.DISPATCH_UNKNOWN}


def start_worker(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMPLAT_")}
    environment.update({"SMPLAT_ENV": "test", "SMPLAT_SECRET_KEY": TEST_SECRET, "SMPLAT_DATABASE_URL": database_url})
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--concurrency", "4"], env=environment, stdout=out, stderr=out
        )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def statuses(database_url: str) -> Counter[str]:
    with psycopg.connect(conninfo(database_url)) as conn:
        rows = conn.execute("SELECT fulfillment_status::text FROM order_line").fetchall()
    return Counter(status for (status,) in rows)


def jobs_waiting(database_url: str) -> int:
    with psycopg.connect(conninfo(database_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'fulfillment.dispatch_line' "
            "AND status IN ('todo', 'doing')"
        ).fetchone()
    return int(row[0]) if row else 0


def age_dead_workers(database_url: str) -> None:
    """The killed worker's heartbeat, as it looks a few minutes later."""
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '10 minutes'")


async def test_a_worker_killed_mid_batch_and_restarted_loses_no_line_and_sends_none_twice(
    session: AsyncSession, catalog: Catalog, sandbox: SandboxProvider, clean_db: str, tmp_path: Path
):
    service = catalog.services[ServiceKind.DEFAULT]
    line_ids: list[int] = []
    for _ in range(ORDERS):
        line_ids += await paid_lines(session, [LineInput(service.id, new_link(), 100) for _ in range(LINES_PER_ORDER)])
    sandbox.set_faults([SLOW_ANSWER])
    log = tmp_path / "worker.log"

    first = start_worker(clean_db, log)
    try:
        wait_for(lambda: len(sandbox.requests) >= 6, 60, "the first worker to send some lines")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    in_flight = statuses(clean_db)
    # Mid-batch: lines taken and sent, their answers not recorded. (Whether some lines are still queued as well
    # depends on how many the four concurrent jobs took at once: usually 3 of 40, on a loaded machine none.)
    assert in_flight[LineStatus.DISPATCHING] > 0, "killed too late: no batch was in flight"

    age_dead_workers(clean_db)
    with connected_to(clean_db) as app:
        async with app.open_async():
            await recover_stalled(app.job_manager)  # the periodic recovery's work
    second = start_worker(clean_db, log)
    try:
        wait_for(
            lambda: jobs_waiting(clean_db) == 0 and set(statuses(clean_db)) <= {str(s) for s in SETTLED},
            120,
            "the second worker to settle every line",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    rows = (
        await session.execute(
            sa.select(OrderLine.link, OrderLine.fulfillment_status, OrderLine.provider_order_id).where(
                OrderLine.id.in_(line_ids)
            )
        )
    ).all()
    await session.commit()
    assert {status for _link, status, _id in rows} <= SETTLED, log.read_text()[-3000:]
    placed = Counter(order.link for order in sandbox.orders)
    assert max(placed.values()) == 1, "a line was sent twice"
    upstream = {str(order.order_id): order.link for order in sandbox.orders}
    for link, status, provider_order_id in rows:
        if status == LineStatus.DISPATCHED:
            assert upstream[str(provider_order_id)] == link
    dispatched = sum(1 for _link, status, _id in rows if status == LineStatus.DISPATCHED)
    unknown_links = {link for link, status, _id in rows if status == LineStatus.DISPATCH_UNKNOWN}
    assert dispatched + len(unknown_links & placed.keys()) == len(sandbox.orders)  # every upstream order is a line's
    assert dispatched >= len(line_ids) - in_flight[LineStatus.DISPATCHING]  # only lines in flight may be unknown
