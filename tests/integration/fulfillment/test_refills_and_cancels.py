"""Refills and cancels reach the provider: sent, followed to their end, refusals kept with the provider's words."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.models import Service, ServiceKind
from app.errors import Conflict, DomainError
from app.fulfillment.cancels import request_cancel, send_cancel
from app.fulfillment.commands import request_refill
from app.fulfillment.dispatch import dispatch_line
from app.fulfillment.models import ProviderService, RefillRequest, RefillStatus
from app.fulfillment.polling import poll_due_lines
from app.fulfillment.refills import follow_refills, send_refills
from app.orders.states import LineStatus
from app.sandbox.provider import ManualClock, SandboxProvider
from app.uow import UnitOfWork, utc_now
from tests import factories
from tests.integration.fulfillment.conftest import Catalog
from tests.integration.fulfillment.helpers import line, line_events, paid_line
from tests.integration.providers.conftest import SIMULATION, TEST_TIMEOUTS

Sessions = async_sessionmaker[AsyncSession]


async def delivered_line(session: AsyncSession, sessions: Sessions, clock: ManualClock, service: Service) -> int:
    await session.execute(sa.update(Service).where(Service.id == service.id).values(refill_days=30))
    await session.commit()
    line_id = await paid_line(session, service)
    assert await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS) == LineStatus.DISPATCHED
    clock.advance(SIMULATION.start_after + SIMULATION.delivery_seconds + 1)
    await poll_due_lines(sessions, now=utc_now() + timedelta(hours=1), timeouts=TEST_TIMEOUTS)
    assert (await line(session, line_id)).fulfillment_status == LineStatus.COMPLETED
    return line_id


async def refill_of(session: AsyncSession, line_id: int) -> RefillRequest:
    refill = await session.scalar(
        sa.select(RefillRequest)
        .where(RefillRequest.order_line_id == line_id)
        .order_by(RefillRequest.id.desc())
        .execution_options(populate_existing=True)
    )
    await session.commit()
    assert refill is not None
    return refill


async def test_a_requested_refill_is_sent_to_the_provider_and_followed_to_completion(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, clock: ManualClock, sandbox: SandboxProvider
):
    line_id = await delivered_line(session, sessions, clock, catalog.services[ServiceKind.DEFAULT])
    await request_refill(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.commit()

    report = await send_refills(sessions, timeouts=TEST_TIMEOUTS)
    assert (report.sent, report.refused, report.not_sent) == (1, 0, 0)
    refill = await refill_of(session, line_id)
    assert refill.status == RefillStatus.SENT
    assert refill.provider_refill_id == "1"
    assert [r.fields.get("action") for r in sandbox.requests].count("refill") == 1
    assert (await send_refills(sessions, timeouts=TEST_TIMEOUTS)).sent == 0  # never sent twice

    clock.advance(SIMULATION.refill_seconds + 1)
    assert (await follow_refills(sessions, timeouts=TEST_TIMEOUTS)).changed == 1
    assert (await refill_of(session, line_id)).status == RefillStatus.COMPLETED
    assert (await follow_refills(sessions, timeouts=TEST_TIMEOUTS)).changed == 0
    notes = [event.note for event in await line_events(session, line_id)]
    assert "refill sent to the provider (its refill 1)" in notes
    assert notes[-1] == "refill completed at the provider"


async def test_a_refill_the_provider_refuses_ends_failed_with_its_message(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, clock: ManualClock
):
    # the drip-feed service is the sandbox's likes, which have no refill there
    line_id = await delivered_line(session, sessions, clock, catalog.services[ServiceKind.DRIP_FEED])
    await request_refill(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.commit()

    assert (await send_refills(sessions, timeouts=TEST_TIMEOUTS)).refused == 1

    refill = await refill_of(session, line_id)
    assert (refill.status, refill.last_error) == (RefillStatus.FAILED, "Refill is disabled for this service")
    # the line may be refilled again later: a failed refill is not open
    await request_refill(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.commit()


async def test_a_refill_whose_request_never_left_stays_requested(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, clock: ManualClock, sandbox: SandboxProvider
):
    line_id = await delivered_line(session, sessions, clock, catalog.services[ServiceKind.DEFAULT])
    await request_refill(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.commit()
    sandbox.stop()

    assert (await send_refills(sessions, timeouts=TEST_TIMEOUTS)).not_sent == 1

    refill = await refill_of(session, line_id)
    assert refill.status == RefillStatus.REQUESTED
    assert refill.last_error is not None


async def allow_cancel(session: AsyncSession, service: Service) -> None:
    await session.execute(
        sa.update(ProviderService).where(ProviderService.id == service.provider_service_id).values(cancel=True)
    )
    await session.commit()


async def test_a_cancel_at_the_provider_is_sent_once_and_the_line_ends_canceled_when_polled(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, clock: ManualClock, sandbox: SandboxProvider
):
    followers = catalog.services[ServiceKind.DEFAULT]
    await allow_cancel(session, followers)
    line_id = await paid_line(session, followers)
    assert await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS) == LineStatus.DISPATCHED

    await request_cancel(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.commit()
    jobs = await session.execute(
        sa.text("SELECT args FROM procrastinate_jobs WHERE task_name = 'fulfillment.send_cancel'")
    )
    assert jobs.scalars().all() == [{"line_id": line_id}]
    await session.commit()
    with pytest.raises(Conflict):
        await request_cancel(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.rollback()

    assert await send_cancel(sessions, line_id, timeouts=TEST_TIMEOUTS) == "accepted"
    assert [r.fields.get("action") for r in sandbox.requests].count("cancel") == 1
    clock.advance(1)
    await poll_due_lines(sessions, now=utc_now() + timedelta(seconds=1), timeouts=TEST_TIMEOUTS)

    assert (await line(session, line_id)).fulfillment_status == LineStatus.CANCELED
    notes = [event.note for event in await line_events(session, line_id)]
    assert "cancel requested at the provider" in notes
    assert any(note and note.startswith("the provider accepted the cancel") for note in notes)


async def test_a_cancel_is_refused_where_the_provider_service_does_not_allow_it(
    session: AsyncSession, sessions: Sessions, catalog: Catalog
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])  # cancel not allowed (as synced)
    queued = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    assert await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS) == LineStatus.DISPATCHED

    with pytest.raises(DomainError, match="does not allow cancels"):
        await request_cancel(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.rollback()
    with pytest.raises(DomainError, match="only lines at the provider"):
        await request_cancel(UnitOfWork(session), line_ids=[queued], actor=factories.TEST_ACTOR)
    await session.rollback()


async def test_a_cancel_the_provider_refuses_is_recorded_with_its_message(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, clock: ManualClock
):
    followers = catalog.services[ServiceKind.DEFAULT]
    await allow_cancel(session, followers)
    line_id = await paid_line(session, followers)
    assert await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS) == LineStatus.DISPATCHED
    await request_cancel(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.commit()
    clock.advance(SIMULATION.start_after + SIMULATION.delivery_seconds + 1)  # finished there meanwhile

    assert await send_cancel(sessions, line_id, timeouts=TEST_TIMEOUTS) == "refused: Order cannot be canceled"
    assert (await line_events(session, line_id))[-1].note == "the provider refused the cancel: Order cannot be canceled"
