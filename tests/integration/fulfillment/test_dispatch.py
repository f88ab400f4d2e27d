"""Dispatch: paid lines are sent to the sandbox provider once, and every failure ends in the right state."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditLog
from app.catalog.models import ServiceKind
from app.fulfillment.dispatch import Taken, dispatch_line, record_outcome, send, take_line
from app.fulfillment.jobs import sweep_dispatch
from app.fulfillment.models import ProviderKind
from app.fulfillment.queueing import queue_dispatch
from app.jobs import connected_to, recover_stalled
from app.orders.placing import LineInput
from app.orders.states import LineStatus
from app.sandbox.provider import Fault, FaultRule, SandboxProvider
from app.uow import UnitOfWork
from tests import factories
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


async def dispatch(sessions: Sessions, line_id: int) -> Taken | LineStatus:
    return await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS)


async def test_paying_an_order_defers_one_dispatch_job_per_line_and_duplicates_collapse(
    session: AsyncSession, catalog: Catalog
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    assert await dispatch_jobs(session, line_id) == [("todo", False)]

    await queue_dispatch(UnitOfWork(session), [line_id])
    await session.commit()
    assert await dispatch_jobs(session, line_id) == [("todo", False)]


@pytest.mark.parametrize(
    ("kind", "item", "sent"),
    [
        (ServiceKind.DEFAULT, {"quantity": 1000}, {"service": "1", "quantity": "1000"}),
        (
            ServiceKind.DRIP_FEED,
            {"quantity": 100, "runs": 5, "interval_minutes": 30},
            {"service": "2", "quantity": "100", "runs": "5", "interval": "30"},
        ),
        (
            ServiceKind.CUSTOM_COMMENTS,
            {"quantity": 1, "comments": "great\nlovely\nwow\nnice\ncool"},
            {"service": "3", "comments": "great\nlovely\nwow\nnice\ncool"},
        ),
        (ServiceKind.PACKAGE, {"quantity": 1}, {"service": "4"}),
        (
            ServiceKind.SUBSCRIPTION,
            {"quantity": 100, "link": "https://www.instagram.com/cafe.linden/"},
            {"service": "5", "username": "cafe.linden", "min": "100", "max": "100"},
        ),
    ],
)
async def test_a_paid_line_is_dispatched_with_the_fields_of_its_service_kind(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider, kind, item, sent
):
    link = item.pop("link", None) or new_link()
    (line_id,) = await paid_lines(session, [LineInput(catalog.services[kind].id, link, **item)])

    assert await dispatch(sessions, line_id) == LineStatus.DISPATCHED

    (order,) = sandbox.orders
    fields = dict(order.fields)
    assert {name: fields.get(name) for name in sent} == sent
    if kind != ServiceKind.SUBSCRIPTION:
        assert fields["link"] == link
    dispatched = await line(session, line_id)
    assert dispatched.provider_order_id == str(order.order_id)
    assert dispatched.attempts == 1 and dispatched.next_poll_at is not None
    last = (await line_events(session, line_id))[-1]
    assert last.to_state == "dispatched"
    assert last.data == {"provider_order_id": str(order.order_id), "provider_answer": f'{{"order": {order.order_id}}}'}


@pytest.mark.parametrize(
    ("rule", "ends_in", "orders_upstream"),
    [
        (FaultRule(Fault.TIMEOUT_AFTER_ACCEPT, actions=("add",), seconds=1.0), LineStatus.DISPATCH_UNKNOWN, 1),
        (FaultRule(Fault.DROP_AFTER_ACCEPT, actions=("add",)), LineStatus.DISPATCH_UNKNOWN, 1),
        (FaultRule(Fault.DROP_BEFORE_READ, actions=("add",)), LineStatus.DISPATCH_UNKNOWN, 0),
        (FaultRule(Fault.SERVER_ERROR, actions=("add",), after_processing=True), LineStatus.DISPATCH_UNKNOWN, 1),
        (FaultRule(Fault.HTML_ERROR, actions=("add",)), LineStatus.DISPATCH_UNKNOWN, 0),
        (FaultRule(Fault.NOT_ENOUGH_FUNDS, actions=("add",)), LineStatus.ON_HOLD, 0),
        (FaultRule(Fault.ACTIVE_ORDER, actions=("add",)), LineStatus.FAILED, 0),
        (FaultRule(Fault.SERVER_ERROR, actions=("add",), status=429), LineStatus.QUEUED, 0),
    ],
    ids=lambda value: getattr(value, "fault", None) or getattr(value, "value", str(value)),
)
async def test_each_fault_ends_in_its_state_and_nothing_is_sent_twice(
    session: AsyncSession,
    sessions: Sessions,
    catalog: Catalog,
    sandbox: SandboxProvider,
    rule,
    ends_in,
    orders_upstream,
):
    sandbox.set_faults([rule])
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    await worker_took_jobs(session)

    assert await dispatch(sessions, line_id) == ends_in
    assert len(sandbox.orders) == orders_upstream
    last = (await line_events(session, line_id))[-1]
    assert last.from_state == "dispatching" and last.to_state == ends_in
    assert last.note
    if ends_in == LineStatus.QUEUED:  # never left: sent again later, with backoff
        assert await dispatch_jobs(session, line_id) == [("doing", False), ("todo", True)]
    if ends_in == LineStatus.FAILED:
        assert "You have active order with this link" in last.note
        assert "active order" in last.data["provider_answer"]
    if ends_in == LineStatus.ON_HOLD:
        audit = await session.scalar(sa.select(AuditLog).where(AuditLog.action == "provider-low-balance"))
        assert audit is not None and audit.entity_id == str(catalog.provider.id)
    # Whatever happens next, a line that is not queued is not sent again.
    sandbox.set_faults([])
    assert await dispatch(sessions, line_id) in (Taken.NOT_QUEUED, LineStatus.DISPATCHED)
    assert len(sandbox.orders) == orders_upstream + (1 if ends_in == LineStatus.QUEUED else 0)


async def test_an_unreachable_provider_keeps_the_line_queued_for_a_retry(
    session: AsyncSession, sessions: Sessions, catalog: Catalog
):
    catalog.provider.api_url = "http://127.0.0.1:9/api/v2"  # nothing listens: connection refused
    await session.commit()
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    await worker_took_jobs(session)

    assert await dispatch(sessions, line_id) == LineStatus.QUEUED
    assert await dispatch_jobs(session, line_id) == [("doing", False), ("todo", True)]
    assert (await line(session, line_id)).attempts == 1


async def test_lines_for_the_same_link_and_service_wait_for_each_other(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    service, link = catalog.services[ServiceKind.DEFAULT], new_link()
    first = await paid_line(session, service, link=link)
    second = await paid_line(session, service, link=link)
    await worker_took_jobs(session)

    assert await dispatch(sessions, first) == LineStatus.DISPATCHED
    assert await dispatch(sessions, second) == Taken.WAITING_FOR_LINK
    assert (await line(session, second)).fulfillment_status == LineStatus.QUEUED
    assert await dispatch_jobs(session, second) == [("doing", False), ("todo", True)]  # looks again later
    assert len(sandbox.orders) == 1


async def test_a_manual_provider_line_waits_for_staff(session: AsyncSession, sessions: Sessions):
    manual = await factories.provider(session, kind=ProviderKind.MANUAL, api_url=None, api_key=None)
    upstream = await factories.provider_service(session, manual)
    service = await factories.service(session, upstream=upstream)
    line_id = await paid_line(session, service)

    assert await dispatch(sessions, line_id) == Taken.WAITING_FOR_STAFF
    assert (await line(session, line_id)).fulfillment_status == LineStatus.QUEUED


# -- crash safety ------------------------------------------------------------------------------------------------


async def test_a_worker_dying_after_committing_dispatching_leaves_the_line_unknown_and_unsent(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    taken, batch = await take_line(sessions, line_id, timeouts=TEST_TIMEOUTS)
    assert taken == Taken.DISPATCHING and batch is not None and batch.client is not None
    await batch.client.aclose()  # the worker dies here: no request

    # The job is run again (stalled-job recovery): it finds its line dispatching and never sends it blindly.
    assert await dispatch(sessions, line_id) == Taken.FOUND_DISPATCHING
    assert (await line(session, line_id)).fulfillment_status == LineStatus.DISPATCH_UNKNOWN
    assert await dispatch(sessions, line_id) == Taken.NOT_QUEUED
    assert sandbox.orders == ()


async def test_a_worker_dying_between_the_provider_call_and_the_outcome_leaves_the_line_unknown(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    _taken, batch = await take_line(sessions, line_id, timeouts=TEST_TIMEOUTS)
    assert batch is not None
    await send(batch)  # the provider has the order; the worker dies before recording it
    assert len(sandbox.orders) == 1

    assert await sweep_dispatch(sessions, stale_after=timedelta(0)) == (0, 1)
    unknown = await line(session, line_id)
    assert unknown.fulfillment_status == LineStatus.DISPATCH_UNKNOWN
    assert "worker" in (await line_events(session, line_id))[-1].note
    assert await dispatch(sessions, line_id) == Taken.NOT_QUEUED
    assert len(sandbox.orders) == 1


async def test_a_late_outcome_after_the_sweep_still_records_the_upstream_order(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    _taken, batch = await take_line(sessions, line_id, timeouts=TEST_TIMEOUTS)
    assert batch is not None
    outcomes = await send(batch)
    await sweep_dispatch(sessions, stale_after=timedelta(0))  # thought dead, but it was only slow

    assert await record_outcome(sessions, batch, outcomes) == {line_id: LineStatus.DISPATCHED}
    assert (await line(session, line_id)).provider_order_id == str(sandbox.orders[0].order_id)


async def test_the_sweep_gives_a_queued_line_without_a_job_a_new_one(
    session: AsyncSession, sessions: Sessions, catalog: Catalog
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    await session.execute(sa.text("DELETE FROM procrastinate_jobs"))
    await session.commit()

    assert await sweep_dispatch(sessions) == (1, 0)
    assert await dispatch_jobs(session, line_id) == [("todo", False)]
    assert await sweep_dispatch(sessions) == (0, 0)


async def test_the_worker_dispatches_a_paid_line_and_recovers_a_stalled_dispatch_as_unknown(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider, clean_db: str
):
    service = catalog.services[ServiceKind.DEFAULT]
    paid = await paid_line(session, service)
    stalled = await paid_line(session, service)
    _taken, batch = await take_line(sessions, stalled, timeouts=TEST_TIMEOUTS)  # its worker dies here
    assert batch is not None and batch.client is not None
    await batch.client.aclose()
    await session.execute(
        sa.text(
            "WITH dead AS (INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '10 minutes') "
            "RETURNING id) UPDATE procrastinate_jobs SET status = 'doing', worker_id = (SELECT id FROM dead) "
            "WHERE (args->>'line_id')::int = :id"
        ),
        {"id": stalled},
    )
    await session.commit()

    with connected_to(clean_db) as app:
        async with app.open_async():
            assert len(await recover_stalled(app.job_manager)) == 1
            await app.run_worker_async(queues=["dispatch"], wait=False, install_signal_handlers=False)

    assert (await line(session, paid)).fulfillment_status == LineStatus.DISPATCHED
    assert (await line(session, stalled)).fulfillment_status == LineStatus.DISPATCH_UNKNOWN
    assert [order.link for order in sandbox.orders] == [(await line(session, paid)).link]


async def test_a_line_waits_for_its_order_row_held_briefly_by_a_sibling_and_is_then_dispatched(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider, engine
):
    first, second = await paid_lines(
        session, [LineInput(catalog.services[ServiceKind.DEFAULT].id, new_link(), 1000) for _ in range(2)]
    )
    await worker_took_jobs(session)
    async with engine.connect() as holder:
        transaction = await holder.begin()
        await holder.execute(
            sa.text(
                "SELECT 1 FROM orders JOIN order_line l ON l.order_id = orders.id WHERE l.id = :id FOR UPDATE OF orders"
            ),
            {"id": first},
        )

        async def release_soon() -> None:
            await asyncio.sleep(0.3)
            await transaction.commit()

        releasing = asyncio.create_task(release_soon())
        assert await dispatch(sessions, second) == LineStatus.DISPATCHED
        await releasing
    assert len(sandbox.orders) == 1


async def test_a_line_whose_order_row_stays_locked_is_busy_and_nothing_is_sent(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider, engine
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    await worker_took_jobs(session)
    async with engine.connect() as holder, holder.begin():
        await holder.execute(
            sa.text(
                "SELECT 1 FROM orders JOIN order_line l ON l.order_id = orders.id WHERE l.id = :id FOR UPDATE OF orders"
            ),
            {"id": line_id},
        )
        assert await dispatch(sessions, line_id) == Taken.BUSY
    assert (await line(session, line_id)).fulfillment_status == LineStatus.QUEUED
    assert sandbox.orders == ()
