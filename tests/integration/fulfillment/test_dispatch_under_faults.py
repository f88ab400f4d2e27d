"""Many lines, one in five meeting a fault of some kind: each ends in exactly one state, none is sent twice.

Dispatched as the worker does it: a line's job is claimed first (as procrastinate fetches it), and its dispatch
takes other waiting lines along in batches (their jobs dropped, so they are not claimed again). The provider's
funds run out near the end: from then on it refuses every request, and lines not yet sent wait on hold unsent.

100 lines by default (200 take about a minute on the shared, loaded 2-core machine);
SMPLAT_FAULT_TEST_LINES=1000 for the full run.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.models import ServiceKind
from app.fulfillment.dispatch import Taken, dispatch_line
from app.fulfillment.jobs import DISPATCH_BATCH
from app.fulfillment.queueing import dispatch_lock
from app.orders.models import OrderLine
from app.orders.placing import LineInput
from app.orders.states import LineStatus
from app.sandbox.provider import Fault, FaultRule, SandboxProvider
from tests.integration.fulfillment.conftest import Catalog
from tests.integration.fulfillment.helpers import new_link, paid_lines
from tests.integration.providers.conftest import TEST_TIMEOUTS

LINES = int(os.environ.get("SMPLAT_FAULT_TEST_LINES", "100"))
LINES_PER_ORDER = 5
CONCURRENCY = 10
# Eight kinds at 2.5 % each, and the funds running out after 95 in 100 lines (the rules are tried in turn).
EACH = 0.025
FAULTS = [
    FaultRule(Fault.NOT_ENOUGH_FUNDS, actions=("add",), skip=LINES * 19 // 20),
    FaultRule(Fault.TIMEOUT_AFTER_ACCEPT, actions=("add",), probability=EACH, seconds=1.0),
    FaultRule(Fault.DROP_AFTER_ACCEPT, actions=("add",), probability=EACH),
    FaultRule(Fault.DROP_BEFORE_READ, actions=("add",), probability=EACH),
    FaultRule(Fault.SERVER_ERROR, actions=("add",), probability=EACH, after_processing=True),
    FaultRule(Fault.HTML_ERROR, actions=("add",), probability=EACH),
    FaultRule(Fault.ACTIVE_ORDER, actions=("add",), probability=EACH),
    FaultRule(Fault.SERVER_ERROR, actions=("add",), probability=EACH, status=429),  # not processed: retried
    FaultRule(Fault.LATENCY, actions=("add",), probability=EACH, seconds=0.2),
]
ENDS = {LineStatus.DISPATCHED, LineStatus.DISPATCH_UNKNOWN, LineStatus.ON_HOLD, LineStatus.FAILED}


async def set_job(sessions: async_sessionmaker[AsyncSession], line_id: int, old: str, new: str) -> bool:
    """The line's dispatch job moved from ``old`` to ``new`` (as the worker fetches it, or retries a busy line)."""
    async with sessions() as session, session.begin():
        moved = await session.scalar(
            sa.text(
                "UPDATE procrastinate_jobs SET status = CAST(:new AS procrastinate_job_status) "
                "WHERE queueing_lock = :lock AND status = CAST(:old AS procrastinate_job_status) RETURNING id"
            ),
            {"lock": dispatch_lock(line_id), "old": old, "new": new},
        )
    return moved is not None


async def test_a_thousand_lines_under_faults_end_in_one_state_each_without_duplicates(
    session: AsyncSession, catalog: Catalog, sandbox: SandboxProvider, engine
):
    service = catalog.services[ServiceKind.DEFAULT]
    sandbox.top_up(sandbox.balance * 10)  # the balance is not what is tested here
    line_ids: list[int] = []
    started = time.monotonic()
    for _ in range(LINES // LINES_PER_ORDER):
        items = [LineInput(service.id, new_link(), 100) for _ in range(LINES_PER_ORDER)]
        line_ids += await paid_lines(session, items)
    created = time.monotonic() - started
    sandbox.set_faults(FAULTS)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(line_id: int) -> None:
        async with gate:
            if not await set_job(sessions, line_id, "todo", "doing"):
                return  # a batch took the line along and dropped its job
            outcome = await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS, batch_size=DISPATCH_BATCH)
            if outcome == Taken.BUSY:  # the job is retried
                await set_job(sessions, line_id, "doing", "todo")

    started = time.monotonic()
    # Lines of one order share its row lock: neighbours in a round come from different orders.
    pending = sorted(line_ids, key=lambda line_id: (line_id % LINES_PER_ORDER, line_id))
    rounds = 0
    while pending:  # lines whose request never left are sent again (the retry job, without its wait)
        rounds += 1
        await asyncio.gather(*(one(line_id) for line_id in pending))
        pending = sorted(
            await session.scalars(
                sa.select(OrderLine.id).where(OrderLine.id.in_(line_ids), OrderLine.fulfillment_status == "queued")
            ),
            key=lambda line_id: (line_id % LINES_PER_ORDER, line_id),
        )
        await session.commit()
        assert rounds < 30
    elapsed = time.monotonic() - started

    rows = (
        await session.execute(
            sa.select(OrderLine.id, OrderLine.link, OrderLine.fulfillment_status, OrderLine.provider_order_id).where(
                OrderLine.id.in_(line_ids)
            )
        )
    ).all()
    states = Counter(status for _id, _link, status, _upstream in rows)
    print(  # noqa: T201 - the measurement goes into the report
        f"\n{LINES} lines paid in {created:.1f} s, dispatched in {elapsed:.1f} s ({rounds} rounds): {dict(states)}"
    )
    assert set(states) <= ENDS and sum(states.values()) == LINES
    assert states[LineStatus.DISPATCHED] >= LINES * 0.7
    assert states[LineStatus.DISPATCH_UNKNOWN] and states[LineStatus.DISPATCHED]
    if LINES >= 500:  # enough draws for every kind of ending
        assert all(states[s] for s in ENDS)

    # The sandbox's own log: no link ordered twice, and every dispatched line is exactly its upstream order.
    upstream = Counter(order.link for order in sandbox.orders)
    assert max(upstream.values()) == 1
    by_link = {order.link: str(order.order_id) for order in sandbox.orders}
    requested = {r.fields.get("link") for r in sandbox.requests if r.action == "add"}
    for _id, link, status, upstream_id in rows:
        if status == LineStatus.DISPATCHED:
            assert by_link[link] == upstream_id
        if status == LineStatus.DISPATCH_UNKNOWN:  # the request reached the sandbox (or timed out there)
            assert link in requested
        if status in (LineStatus.ON_HOLD, LineStatus.FAILED):
            assert link not in by_link
