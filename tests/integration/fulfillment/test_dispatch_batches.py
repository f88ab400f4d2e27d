"""A dispatch job sends other waiting lines of its provider along: once each, its own outcome for each line."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditLog
from app.catalog.models import ServiceKind
from app.fulfillment.dispatch import Taken, dispatch_line, record_outcome, send, take_line
from app.fulfillment.queueing import queue_dispatch
from app.orders.placing import LineInput
from app.orders.states import LineStatus
from app.sandbox.provider import Fault, FaultRule, SandboxProvider
from app.uow import UnitOfWork, utc_now
from tests.integration.fulfillment.conftest import Catalog
from tests.integration.fulfillment.helpers import (
    dispatch_jobs,
    line,
    line_events,
    new_link,
    paid_line,
    paid_lines,
    worker_took_jobs,
)
from tests.integration.providers.conftest import TEST_TIMEOUTS

Sessions = async_sessionmaker[AsyncSession]
BATCH = 10


async def dispatch(sessions: Sessions, line_id: int) -> Taken | LineStatus:
    return await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS, batch_size=BATCH)


async def statuses(session: AsyncSession, line_ids: list[int]) -> list[LineStatus]:
    return [(await line(session, line_id)).fulfillment_status for line_id in line_ids]


async def test_one_job_sends_the_waiting_lines_of_its_provider_and_their_jobs_are_dropped(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    service = catalog.services[ServiceKind.DEFAULT]
    first = await paid_lines(session, [LineInput(service.id, new_link(), 100) for _ in range(3)])
    second = await paid_lines(session, [LineInput(service.id, new_link(), 100) for _ in range(2)])
    lines = first + second

    assert await dispatch(sessions, lines[0]) == LineStatus.DISPATCHED
    assert await statuses(session, lines) == [LineStatus.DISPATCHED] * 5
    assert sorted(order.link for order in sandbox.orders) == sorted([(await line(session, i)).link for i in lines])
    assert await dispatch_jobs(session, lines[0]) == [("todo", False)]  # its own: run by the worker, not here
    for other in lines[1:]:
        assert await dispatch_jobs(session, other) == []
        assert await dispatch(sessions, other) == Taken.NOT_QUEUED
    starts = [e for e in await line_events(session, lines[3]) if e.to_state == LineStatus.DISPATCHING]
    assert [e.data for e in starts] == [{"batch": lines[0]}]
    assert len(sandbox.orders) == 5


async def test_lines_another_worker_holds_or_that_wait_for_a_retry_or_their_link_are_left_to_their_own_jobs(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider, engine
):
    service = catalog.services[ServiceKind.DEFAULT]
    leader = await paid_line(session, service)
    held_elsewhere = await paid_line(session, service)
    retry_later = await paid_line(session, service)
    same_link = await paid_line(session, service, link=(await line(session, leader)).link)
    taken_along = await paid_line(session, service)
    await session.execute(
        sa.text("DELETE FROM procrastinate_jobs WHERE (args->>'line_id')::int = :id"), {"id": retry_later}
    )
    await session.commit()
    await queue_dispatch(UnitOfWork(session), [retry_later], at=utc_now() + timedelta(minutes=5))
    await session.commit()

    async with engine.connect() as other_worker, other_worker.begin():
        await other_worker.execute(
            sa.text("SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = :lock FOR UPDATE"),
            {"lock": f"dispatch-line-{held_elsewhere}"},
        )
        assert await dispatch(sessions, leader) == LineStatus.DISPATCHED

    assert await statuses(session, [leader, held_elsewhere, retry_later, same_link, taken_along]) == [
        LineStatus.DISPATCHED,
        LineStatus.QUEUED,
        LineStatus.QUEUED,
        LineStatus.QUEUED,
        LineStatus.DISPATCHED,
    ]
    assert await dispatch_jobs(session, held_elsewhere) == [("todo", False)]
    assert await dispatch_jobs(session, retry_later) == [("todo", True)]
    assert await dispatch_jobs(session, same_link) == [("todo", False)]
    assert len(sandbox.orders) == 2


async def test_a_batch_records_each_lines_own_outcome(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    service = catalog.services[ServiceKind.DEFAULT]
    lines = await paid_lines(session, [LineInput(service.id, new_link(), 100) for _ in range(5)])
    sandbox.set_faults(
        [
            FaultRule(Fault.ACTIVE_ORDER, actions=("add",), times=1),
            FaultRule(Fault.SERVER_ERROR, actions=("add",), times=1, after_processing=True),
            FaultRule(Fault.SERVER_ERROR, actions=("add",), times=1, status=429),  # not processed: sent again later
        ]
    )

    await worker_took_jobs(session, lines[0])  # the 429 may fall on the leader itself: its running job is not reused
    started = utc_now()
    await dispatch(sessions, lines[0])

    ended = Counter(await statuses(session, lines))
    assert ended == {
        LineStatus.DISPATCHED: 2,
        LineStatus.FAILED: 1,
        LineStatus.DISPATCH_UNKNOWN: 1,
        LineStatus.QUEUED: 1,
    }
    (retried,) = [i for i in lines if (await line(session, i)).fulfillment_status == LineStatus.QUEUED]
    # Sent again after its backoff: its one waiting job is scheduled later than the dispatch (not "now").
    scheduled = await session.scalar(
        sa.text(
            "SELECT scheduled_at FROM procrastinate_jobs WHERE status = 'todo' "
            "AND task_name = 'fulfillment.dispatch_line' AND (args->>'line_id')::int = :id"
        ),
        {"id": retried},
    )
    assert scheduled is not None and scheduled > started
    audit = await session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "record-dispatch", AuditLog.entity_type == "order_line")
    )
    assert sorted(row.diff["result"] for row in audit) == ["accepted", "accepted", "not_sent", "refused", "unknown"]
    assert len(sandbox.orders) == 3  # two dispatched, and the one whose answer was an error page


async def test_a_job_rerun_after_its_worker_died_gives_up_every_line_of_its_batch_as_unknown(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    service = catalog.services[ServiceKind.DEFAULT]
    lines = await paid_lines(session, [LineInput(service.id, new_link(), 100) for _ in range(4)])
    bystander = await paid_line(session, service)
    _taken, batch = await take_line(sessions, lines[0], timeouts=TEST_TIMEOUTS, batch_size=4)
    assert batch is not None and batch.client is not None and batch.line_ids == lines
    await batch.client.aclose()  # the worker dies here

    assert await dispatch(sessions, lines[0]) == Taken.FOUND_DISPATCHING
    assert await statuses(session, lines) == [LineStatus.DISPATCH_UNKNOWN] * 4
    assert (await line(session, bystander)).fulfillment_status == LineStatus.QUEUED
    assert sandbox.orders == ()


# -- a provider without funds ------------------------------------------------------------------------------------


async def alerts(session: AsyncSession) -> list[AuditLog]:
    rows = await session.scalars(sa.select(AuditLog).where(AuditLog.action == "alert:provider-balance-low"))
    return list(rows)


async def test_lines_refused_for_funds_raise_one_alert_and_later_lines_wait_on_hold_unsent(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    service = catalog.services[ServiceKind.DEFAULT]
    lines = await paid_lines(session, [LineInput(service.id, new_link(), 100) for _ in range(6)])
    sandbox.set_faults([FaultRule(Fault.NOT_ENOUGH_FUNDS, actions=("add",))])

    # Two batches in flight at once, both refused: staff hear of it once.
    _taken, first = await take_line(sessions, lines[0], timeouts=TEST_TIMEOUTS, batch_size=3)
    _taken, second = await take_line(sessions, lines[3], timeouts=TEST_TIMEOUTS, batch_size=2)
    assert first is not None and second is not None
    first_answers, second_answers = await send(first), await send(second)
    await record_outcome(sessions, first, first_answers)
    await record_outcome(sessions, second, second_answers)
    assert await statuses(session, lines[:5]) == [LineStatus.ON_HOLD] * 5
    (alert,) = await alerts(session)
    assert alert.entity_id == str(catalog.provider.id)
    assert alert.diff is not None and alert.diff["lines"] == lines[:3]
    assert len([r for r in sandbox.requests if r.action == "add"]) == 5

    # Known to lack funds now: the next lines wait on hold without being sent.
    later = await paid_line(session, service)
    assert await dispatch(sessions, lines[5]) == Taken.WAITING_FOR_FUNDS
    assert await statuses(session, [lines[5], later]) == [LineStatus.ON_HOLD] * 2
    assert len([r for r in sandbox.requests if r.action == "add"]) == 5
    assert len(await alerts(session)) == 1
    assert (await line_events(session, later))[-1].data == {"hold": "provider_balance"}
