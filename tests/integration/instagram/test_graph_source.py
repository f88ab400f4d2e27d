"""The Graph source against the loopback Graph API: what each answer leads to, the hour's call budget, the cache,
back-off after a rate limit, a refused token reported to staff once, and passing failures skipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from structlog.testing import capture_logs

from app.audit.models import AuditLog
from app.config import Settings
from app.instagram.graph_api import LookupOutcome
from app.instagram.models import InstagramLookup, InstagramSnapshot
from app.notifications.models import EmailOutbox
from app.orders.models import OrderLine
from app.sandbox.instagram_graph import GraphFault, GraphFaultRule, SandboxAccount, SandboxInstagramGraph
from app.uow import utc_now
from tests import factories
from tests.integration.instagram.graph import graph_on, loopback_graph, run_job
from tests.integration.instagram.test_snapshots import DELIVERING, line_at
from tests.integration.portal.conftest import log_in

OUT = LookupOutcome
BUSINESS = SandboxAccount(followers=5000, follows=200, media=80)
ALERT = "alert:instagram-token-refused"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return graph_on(settings)


async def profiles(session: AsyncSession, *handles: str) -> list[OrderLine]:
    lines = [(await line_at(session, f"https://www.instagram.com/{handle}/", DELIVERING))[1] for handle in handles]
    await session.commit()
    return lines


def asked(graph: SandboxInstagramGraph) -> list[str]:
    return [request.handle or "" for request in graph.requests]


async def snapshot_handles(session: AsyncSession) -> list[str]:
    return sorted((await session.scalars(sa.select(InstagramSnapshot.handle))).all())


async def outcomes(session: AsyncSession) -> dict[str, list[str]]:
    rows = await session.execute(
        sa.select(InstagramLookup.handle, InstagramLookup.outcome).order_by(InstagramLookup.id)
    )
    found: dict[str, list[str]] = {}
    for handle, outcome in rows.tuples():
        found.setdefault(handle, []).append(outcome)
    return found


async def time_passes(session: AsyncSession, delta: timedelta) -> None:
    """Move every recorded call and snapshot ``delta`` into the past, as if that much time went by."""
    moved = {"delta": delta}
    await session.execute(
        sa.text(
            "UPDATE instagram_lookup SET asked_at = asked_at - CAST(:delta AS interval),"
            " resume_at = resume_at - CAST(:delta AS interval)"
        ),
        moved,
    )
    await session.execute(
        sa.text("UPDATE instagram_snapshot SET taken_at = taken_at - CAST(:delta AS interval)"), moved
    )
    await session.commit()


async def test_a_profile_instagram_does_not_show_falls_back_to_the_providers_counts_labelled_on_the_page(
    client, engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    await factories.company_settings(session)
    buyer = await factories.customer(session, email="mia@example.com", locale="en")
    order = await factories.paid_order(
        session, buyer=buyer, items=[(await factories.service(session), 1000, "https://www.instagram.com/mia.home/")]
    )
    line = await factories.move_line(session, order.lines[0].id, *DELIVERING, provider_order_id="up-mia")
    line.start_count, line.remains = 400, 300
    line.dispatched_at, line.last_progress_at = utc_now() - timedelta(days=2), utc_now() - timedelta(hours=1)
    await session.commit()

    with loopback_graph({}) as graph:  # mia.home is a personal account
        report = await run_job(engine, graph, settings)
    await log_in(client, session, "mia@example.com")
    page = (await client.get("/portal/metrics?lang=en")).text

    assert report.asked == 1 and report.recorded == 0 and await outcomes(session) == {"mia.home": [OUT.NOT_VISIBLE]}
    assert await snapshot_handles(session) == []
    section = page[page.index('data-handle="mia.home"') :]
    assert 'data-testid="provider-counts"' in section and "Provider counts" in section
    assert "400 → 1,100" in section  # the provider's start count, then 700 delivered


async def test_a_profile_not_shown_is_not_asked_about_again_for_a_day_and_a_counted_one_not_within_the_refresh(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    await profiles(session, "shop.berlin", "private.anna")
    with loopback_graph({"shop.berlin": BUSINESS}) as graph:
        await run_job(engine, graph, settings)
        assert sorted(asked(graph)) == ["private.anna", "shop.berlin"]

        again = await run_job(engine, graph, settings)  # ten minutes later: nothing is due
        assert again.asked == 0 and len(graph.requests) == 2

        await time_passes(session, timedelta(minutes=61))  # past the refresh: the business profile is asked again
        await run_job(engine, graph, settings)
        assert asked(graph)[2:] == ["shop.berlin"]

        await time_passes(session, timedelta(hours=23))  # a day after "not visible": asked again
        await run_job(engine, graph, settings)
        assert sorted(asked(graph)[3:]) == ["private.anna", "shop.berlin"]

    assert await snapshot_handles(session) == ["shop.berlin"] * 3


async def test_the_hourly_budget_holds_across_runs_and_the_longest_unasked_profile_goes_first(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    await profiles(session, "one.cafe", "two.cafe", "three.cafe")
    world = dict.fromkeys(("one.cafe", "two.cafe", "three.cafe"), BUSINESS)
    tight = replace(settings, instagram_calls_per_hour=2)
    with loopback_graph(world) as graph:
        first = await run_job(engine, graph, tight)
        second = await run_job(engine, graph, tight)
        assert first.asked == 2 and second.asked == 0 and len(graph.requests) == 2

        await time_passes(session, timedelta(minutes=61))
        await run_job(engine, graph, tight)
        left_out = ({"one.cafe", "two.cafe", "three.cafe"} - set(asked(graph)[:2])).pop()
        assert asked(graph)[2] == left_out  # never asked beats asked an hour ago
        assert len(graph.requests) == 4


async def test_a_rate_limit_answer_stops_the_run_and_nothing_is_asked_until_the_back_off_ends(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    await profiles(session, "one.cafe", "two.cafe", "three.cafe")
    world = dict.fromkeys(("one.cafe", "two.cafe", "three.cafe"), BUSINESS)
    with loopback_graph(world, [GraphFaultRule(GraphFault.RATE_LIMITED, code=17)]) as graph:
        limited = await run_job(engine, graph, settings)
        assert limited.asked == 1 and limited.stopped == OUT.RATE_LIMITED and len(graph.requests) == 1

        paused = await run_job(engine, graph, settings)
        assert paused.asked == 0 and paused.stopped == "paused" and len(graph.requests) == 1

        await time_passes(session, timedelta(minutes=61))
        resumed = await run_job(engine, graph, settings)

    assert resumed.asked == 3 and resumed.recorded == 3 and resumed.stopped is None
    assert await snapshot_handles(session) == ["one.cafe", "three.cafe", "two.cafe"]


async def test_usage_headers_at_the_limit_keep_the_counts_but_end_the_run_for_as_long_as_meta_says(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    await profiles(session, "one.cafe", "two.cafe")
    world = dict.fromkeys(("one.cafe", "two.cafe"), BUSINESS)
    with loopback_graph(world, [GraphFaultRule(GraphFault.USAGE_AT_LIMIT, regain_minutes=40)]) as graph:
        first = await run_job(engine, graph, settings)
        await time_passes(session, timedelta(minutes=30))
        still_paused = await run_job(engine, graph, settings)
        await time_passes(session, timedelta(minutes=11))
        resumed = await run_job(engine, graph, settings)

    assert (first.asked, first.recorded, first.stopped) == (1, 1, OUT.COUNTED)
    assert still_paused.asked == 0 and resumed.asked == 1
    assert len(await snapshot_handles(session)) == 2


async def test_a_refused_token_is_logged_and_alerts_staff_once_a_day(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    await factories.company_settings(session)
    lines = await profiles(session, "one.cafe", "two.cafe")
    with loopback_graph(dict.fromkeys(("one.cafe", "two.cafe"), BUSINESS)) as graph:
        with capture_logs() as logged:
            refused = await run_job(engine, graph, settings, token="expired-token")
        again = await run_job(engine, graph, settings, token="expired-token")
        mails = (await session.scalars(sa.select(EmailOutbox).where(EmailOutbox.template == "staff_alert"))).all()
        await time_passes(session, timedelta(hours=25))
        next_day = await run_job(engine, graph, settings, token="expired-token")

    assert [run.asked for run in (refused, again, next_day)] == [1, 1, 1]
    errors = [entry for entry in logged if entry["log_level"] == "error"]
    assert [entry["event"] for entry in errors] == ["instagram access token refused"]
    assert "Invalid OAuth access token" in errors[0]["reason"] and "expired-token" not in str(logged)
    assert refused.stopped == OUT.TOKEN_REFUSED and len(graph.requests) == 3
    alerts = (await session.scalars(sa.select(AuditLog).where(AuditLog.action == ALERT))).all()
    assert len(alerts) == 2  # the first refusal, and the first a day later
    assert alerts[0].entity_type == "order-line" and int(alerts[0].entity_id or 0) in {line.id for line in lines}
    told = str(alerts[0].diff)
    assert "SMPLAT_INSTAGRAM_ACCESS_TOKEN" in told and "Invalid OAuth access token" in told
    assert "expired-token" not in told
    assert len(mails) == 1 and "SMPLAT_INSTAGRAM_ACCESS_TOKEN" in str(mails[0].context)
    assert await snapshot_handles(session) == []


async def test_a_timeout_or_server_error_skips_the_profile_until_the_next_run(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    await profiles(session, "one.cafe", "two.cafe", "three.cafe")
    world = dict.fromkeys(("one.cafe", "two.cafe", "three.cafe"), BUSINESS)
    faults = [GraphFaultRule(GraphFault.SLOW, seconds=2.0), GraphFaultRule(GraphFault.SERVER_ERROR)]
    with loopback_graph(world, faults) as graph:
        first = await run_job(engine, graph, settings, answer_within=0.3)
        second = await run_job(engine, graph, settings, answer_within=0.3)

    assert (first.asked, first.recorded, first.stopped) == (3, 1, None)
    assert first.outcomes == {OUT.UNAVAILABLE: 2, OUT.COUNTED: 1}
    assert (second.asked, second.recorded) == (2, 2)  # the two skipped ones, asked again
    assert await snapshot_handles(session) == ["one.cafe", "three.cafe", "two.cafe"]


async def test_three_failures_in_a_row_end_the_run(engine: AsyncEngine, session: AsyncSession, settings: Settings):
    await profiles(session, "a.cafe", "b.cafe", "c.cafe", "d.cafe")
    world = dict.fromkeys(("a.cafe", "b.cafe", "c.cafe", "d.cafe"), BUSINESS)
    with loopback_graph(world, [GraphFaultRule(GraphFault.SERVER_ERROR, times=None)]) as graph:
        report = await run_job(engine, graph, settings)

    assert report.asked == 3 and report.stopped == OUT.UNAVAILABLE and len(graph.requests) == 3
