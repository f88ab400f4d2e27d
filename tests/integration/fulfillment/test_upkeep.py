"""Provider upkeep: balance holds and resumes, services the provider dropped or repriced, stuck lines flagged once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditLog
from app.catalog.models import Service, ServiceKind
from app.fulfillment.commands import DispatchResult, record_dispatch, start_dispatch
from app.fulfillment.dispatch import dispatch_line
from app.fulfillment.holds import flag_stuck_lines
from app.fulfillment.models import Provider
from app.fulfillment.queues import STUCK, fulfillment_queues
from app.fulfillment.upkeep import flag_stuck, upkeep_providers
from app.orders.commands import hold_lines
from app.orders.states import LineStatus
from app.sandbox.provider import DEFAULT_SERVICES, SandboxProvider, SandboxService
from app.uow import UnitOfWork, utc_now
from tests import factories
from tests.integration.fulfillment.conftest import Catalog
from tests.integration.fulfillment.helpers import dispatch_jobs, line, line_events, paid_line
from tests.integration.providers.conftest import TEST_TIMEOUTS

Sessions = async_sessionmaker[AsyncSession]
STUCK_AFTER = timedelta(hours=6)


async def alerts(session: AsyncSession, topic: str, after: int = 0) -> list[AuditLog]:
    rows = await session.scalars(
        sa.select(AuditLog).where(AuditLog.action == f"alert:{topic}", AuditLog.id > after).order_by(AuditLog.id)
    )
    await session.commit()
    return list(rows)


async def set_threshold(session: AsyncSession, provider: Provider, threshold: str) -> None:
    await session.execute(
        sa.update(Provider).where(Provider.id == provider.id).values(low_balance_threshold=Decimal(threshold))
    )
    await session.commit()


async def test_low_balance_holds_queued_lines_and_a_top_up_resumes_only_those_held_for_balance(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    followers = catalog.services[ServiceKind.DEFAULT]
    queued = await paid_line(session, followers)
    staff_held = await paid_line(session, followers)
    refused_for_funds = await paid_line(session, followers)
    await hold_lines(UnitOfWork(session), line_ids=[staff_held], actor=factories.TEST_ACTOR, reason="client asked")
    uow = UnitOfWork(session)
    await start_dispatch(uow, line_id=refused_for_funds, actor=factories.TEST_ACTOR)
    await record_dispatch(
        uow,
        line_id=refused_for_funds,
        actor=factories.TEST_ACTOR,
        result=DispatchResult.LOW_BALANCE,
        note="provider low balance: Not enough funds on balance",
    )
    await session.commit()
    await set_threshold(session, catalog.provider, "1500.00")  # the sandbox holds 1000

    (result,) = await upkeep_providers(sessions, timeouts=TEST_TIMEOUTS)
    assert (result.sync.ok, result.held, result.resumed) == (True, 1, 0)
    assert (await line(session, queued)).fulfillment_status == LineStatus.ON_HOLD
    assert (await line_events(session, queued))[-1].note == "provider balance low"
    (low,) = await alerts(session, "provider-balance-low")
    assert low.entity_id == str(catalog.provider.id)

    (again,) = await upkeep_providers(sessions, timeouts=TEST_TIMEOUTS)
    assert (again.held, again.resumed) == (0, 0)
    assert len(await alerts(session, "provider-balance-low")) == 1  # alerted once, when it fell

    sandbox.top_up(Decimal("1000.00"))
    (topped,) = await upkeep_providers(sessions, timeouts=TEST_TIMEOUTS)
    assert (topped.held, topped.resumed) == (0, 2)
    assert (await line(session, queued)).fulfillment_status == LineStatus.QUEUED
    assert (await line(session, refused_for_funds)).fulfillment_status == LineStatus.QUEUED
    assert (await line(session, staff_held)).fulfillment_status == LineStatus.ON_HOLD  # a person decides that one
    assert ("todo", False) in await dispatch_jobs(session, queued)
    assert len(await alerts(session, "provider-balance-restored")) == 1


async def test_a_service_the_provider_dropped_deactivates_ours_and_a_new_rate_is_flagged(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    await upkeep_providers(sessions, timeouts=TEST_TIMEOUTS)  # rates as the sandbox lists them
    seen = int(await session.scalar(sa.select(sa.func.max(AuditLog.id))) or 0)
    await session.commit()
    dropped = SandboxService(1, "", Decimal(0), 0, 0)
    repriced = [s for s in DEFAULT_SERVICES if s.id != dropped.id]
    repriced[0] = SandboxService(2, repriced[0].name, Decimal("0.55"), 20, 50_000, cancel=True)
    sandbox.set_services(repriced)

    (result,) = await upkeep_providers(sessions, timeouts=TEST_TIMEOUTS)

    assert result.sync.unlisted == 1
    followers = await session.get_one(Service, catalog.services[ServiceKind.DEFAULT].id, populate_existing=True)
    likes = await session.get_one(Service, catalog.services[ServiceKind.DRIP_FEED].id, populate_existing=True)
    assert (followers.is_active, likes.is_active) == (False, True)
    (removed,) = await alerts(session, "provider-service-removed", seen)
    assert removed.diff is not None
    assert removed.diff["deactivated"] == [followers.slug]
    (rate,) = await alerts(session, "provider-rate-changed", seen)
    assert rate.diff is not None
    assert (rate.diff["old_rate"], rate.diff["new_rate"]) == ("0.4500", "0.5500")
    assert rate.diff["services"] == [likes.slug]
    deactivation = await session.scalar(sa.select(AuditLog).where(AuditLog.action == "deactivate", AuditLog.id > seen))
    assert deactivation is not None


async def test_a_line_without_progress_is_flagged_stuck_once_and_shown_in_the_stuck_lane(
    session: AsyncSession, sessions: Sessions, catalog: Catalog
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    fresh = await paid_line(session, catalog.services[ServiceKind.DEFAULT])
    for each in (line_id, fresh):
        assert await dispatch_line(sessions, each, timeouts=TEST_TIMEOUTS) == LineStatus.DISPATCHED
    assert await flag_stuck(sessions, stuck_after=STUCK_AFTER) == 0
    long_ago = utc_now() - timedelta(hours=7)
    await session.execute(
        sa.text("UPDATE order_line SET dispatched_at = :at, status_changed_at = :at WHERE id = :id"),
        {"at": long_ago, "id": line_id},
    )
    await session.commit()

    assert await flag_stuck(sessions, stuck_after=STUCK_AFTER) == 1
    assert await flag_stuck(sessions, stuck_after=STUCK_AFTER) == 0  # once per stall

    event = (await line_events(session, line_id))[-1]
    assert event.note is not None
    assert event.note.startswith("stuck: not started at the provider for 6 h")
    (alert,) = await alerts(session, "line-stuck")
    assert alert.entity_id == str(line_id)
    lanes = {queue.key: queue for queue in await fulfillment_queues(session, stuck_after=STUCK_AFTER)}
    assert [board_line.id for board_line in lanes[STUCK.key].lines] == [line_id]

    # it moved an hour after the flag, then stalled again: flagged again once that stall is long enough
    await session.execute(
        sa.text("UPDATE order_line SET last_progress_at = :at WHERE id = :id"),
        {"at": utc_now() + timedelta(hours=1), "id": line_id},
    )
    await session.commit()
    later = UnitOfWork(session, clock=lambda: utc_now() + timedelta(hours=7, minutes=30))
    flagged = await flag_stuck_lines(later, stuck_after=STUCK_AFTER, actor=factories.TEST_ACTOR)
    assert flagged == [line_id, fresh]  # the fresh one has stalled by then too


async def test_lines_refused_for_funds_resume_only_once_the_balance_covers_them(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider
):
    pricey = SandboxService(1, "Instagram Followers", Decimal("500.00"), 50, 10_000, refill=True, cancel=True)
    sandbox.set_services([pricey, *(s for s in DEFAULT_SERVICES if s.id != pricey.id)])
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT], quantity=4000)  # 2000 upstream
    uow = UnitOfWork(session)
    await start_dispatch(uow, line_id=line_id, actor=factories.TEST_ACTOR)
    await record_dispatch(uow, line_id=line_id, actor=factories.TEST_ACTOR, result=DispatchResult.LOW_BALANCE)
    await session.commit()

    (result,) = await upkeep_providers(sessions, timeouts=TEST_TIMEOUTS)  # 1000 left, above the threshold of 0
    assert (result.held, result.resumed) == (0, 0)
    assert (await line(session, line_id)).fulfillment_status == LineStatus.ON_HOLD

    sandbox.top_up(Decimal("1500.00"))
    (result,) = await upkeep_providers(sessions, timeouts=TEST_TIMEOUTS)
    assert (result.held, result.resumed) == (0, 1)
    assert (await line(session, line_id)).fulfillment_status == LineStatus.QUEUED
