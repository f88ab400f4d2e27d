"""Instagram snapshots: which lines the job looks at, what it records, and the chart on the tracking page."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.catalog.models import Platform
from app.config import Settings, use_settings
from app.instagram.graph_api import GraphProfileStats, configured_source
from app.instagram.models import InstagramSnapshot
from app.orders import commands
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from app.sandbox.instagram_graph import SandboxAccount
from app.uow import UnitOfWork, utc_now
from tests import factories
from tests.integration.instagram.graph import graph_on, loopback_graph, run_job

S = LineStatus
DELIVERING = (S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS)
PROFILE = "https://www.instagram.com/lena.schmidt/"


async def line_at(
    session: AsyncSession, link: str, path: tuple[LineStatus, ...], *, platform: Platform = Platform.INSTAGRAM
) -> tuple[str, OrderLine]:
    made = await factories.service(session, platform=platform)
    placed = await factories.place_order(session, items=[(made, 2000, link)])
    order = await commands.mark_paid(UnitOfWork(session), order_id=placed.order.id, actor=factories.TEST_ACTOR)
    line = await factories.move_line(session, order.lines[0].id, *path, provider_order_id=f"up-{order.id}")
    assert placed.tracking_token is not None
    return placed.tracking_token, line


async def snapshots(session: AsyncSession) -> list[InstagramSnapshot]:
    rows = await session.scalars(sa.select(InstagramSnapshot).order_by(InstagramSnapshot.taken_at))
    return list(rows.all())


async def test_the_job_records_one_snapshot_per_profile_being_delivered_with_instagrams_counts(
    engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    _token, same = await line_at(session, "https://www.instagram.com/Lena.Schmidt", (S.DISPATCHING, S.DISPATCHED))
    _token, line = await line_at(session, PROFILE, DELIVERING)  # the latest order for the profile is asked about
    await line_at(session, "https://www.instagram.com/p/C0ffee123/", DELIVERING)  # a post, not a profile
    await line_at(session, "https://www.instagram.com/queued.only/", ())  # not started
    await line_at(session, "https://www.youtube.com/@lena", DELIVERING, platform=Platform.YOUTUBE)
    _token, old = await line_at(session, "https://www.instagram.com/long.ago/", (*DELIVERING, S.COMPLETED))
    old.finished_at = utc_now() - timedelta(days=8)
    _token, recent = await line_at(session, "https://www.instagram.com/just.done/", (*DELIVERING, S.COMPLETED))
    await session.commit()
    world = {
        "lena.schmidt": SandboxAccount(followers=1500, follows=310, media=42),
        "just.done": SandboxAccount(followers=90, follows=10, media=3),
        "long.ago": SandboxAccount(followers=1, follows=1, media=1),
        "queued.only": SandboxAccount(followers=1, follows=1, media=1),
    }

    with loopback_graph(world) as graph:
        report = await run_job(engine, graph, settings)
        asked = sorted(request.handle or "" for request in graph.requests)

    rows = await snapshots(session)
    assert report.recorded == 2 and report.asked == 2 and asked == ["just.done", "lena.schmidt"]
    assert sorted(row.handle for row in rows) == ["just.done", "lena.schmidt"]
    lena = next(row for row in rows if row.handle == "lena.schmidt")
    assert (lena.followers, lena.following, lena.media_count) == (1500, 310, 42)
    assert lena.line_id == line.id and same.id != line.id  # one look per profile
    assert next(row for row in rows if row.handle == "just.done").line_id == recent.id


async def test_no_source_is_configured_by_default_and_the_graph_source_only_when_asked(settings: Settings):
    previous = use_settings(settings)
    try:
        assert configured_source() is None
        use_settings(graph_on(settings))
        source = configured_source()
        assert isinstance(source, GraphProfileStats)
        await source.aclose()
    finally:
        use_settings(previous)


async def test_the_tracking_page_draws_the_follower_chart_with_the_start_marked(
    client: AsyncTestClient[Litestar], engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    await factories.company_settings(session)
    token, line = await line_at(session, PROFILE, DELIVERING)
    line.start_count, line.remains = 1000, 2000
    line.dispatched_at = utc_now() - timedelta(hours=3)
    await session.commit()
    world = {"lena.schmidt": SandboxAccount(followers=1000, follows=300, media=40)}
    with loopback_graph(world) as graph:
        await run_job(engine, graph, settings)
        # An hour and a half later, 1,200 were delivered.
        await session.execute(sa.update(InstagramSnapshot).values(taken_at=utc_now() - timedelta(minutes=90)))
        await session.commit()
        world["lena.schmidt"] = SandboxAccount(followers=2200, follows=300, media=40)
        await run_job(engine, graph, settings)

    page = (await client.get(f"/track/{token}?lang=en")).text

    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Followers of instagram.com/lena.schmidt" in svg
    assert svg.count('class="chart-line"') == 1 and 'class="chart-start"' in svg
    assert "The dashed line marks the start of your order." in svg and 'class="chart-start-key"' in page
    assert "1,000" in page and "2,200" in page.replace("\xa0", " ")  # the first count, then 1,200 more


async def test_a_post_line_and_an_order_without_snapshots_show_no_chart(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    await factories.company_settings(session)
    token, _line = await line_at(session, "https://www.instagram.com/p/C0ffee123/", DELIVERING)
    profile_token, _profile = await line_at(session, PROFILE, DELIVERING)
    await session.commit()

    for shown in (token, profile_token):
        assert "<svg" not in (await client.get(f"/track/{shown}")).text


async def test_a_profile_instagram_does_not_show_is_charted_from_the_providers_counts_labelled_as_such(
    client: AsyncTestClient[Litestar], session: AsyncSession, settings: Settings
):
    await factories.company_settings(session)
    token, line = await line_at(session, PROFILE, DELIVERING)
    line.start_count, line.remains = 400, 1300
    line.dispatched_at, line.last_progress_at = utc_now() - timedelta(days=1), utc_now() - timedelta(hours=1)
    await session.commit()

    previous = use_settings(graph_on(settings))
    try:
        page = (await client.get(f"/track/{token}?lang=en")).text
    finally:
        use_settings(previous)

    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count('class="chart-line"') == 1 and 'class="chart-start"' in svg
    assert 'data-testid="provider-counts"' in page and "Provider counts" in page
    assert "400" in page and "1,100" in page  # the provider's start count, then 700 delivered
