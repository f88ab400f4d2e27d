"""Anonymous funnel events: page views buffered and written in batches; checkout and payment in their units of work."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from app.analytics import funnel
from app.analytics.models import FunnelEvent, FunnelKind
from app.catalog.models import Service
from app.demo.seed import seed_demo_data
from app.uow import UnitOfWork

SLUG = "instagram-follower-de"


async def seeded(session):
    await seed_demo_data(session)
    await session.commit()


@pytest.fixture
async def client(app):
    """Views stay in the buffer until the test flushes (a slow machine could otherwise flush in between), unless
    a test lowers the batch size."""
    app.state.funnel.flush_every = 3600
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


async def events(session) -> list[FunnelEvent]:
    return list(await session.scalars(sa.select(FunnelEvent).order_by(FunnelEvent.id)))


async def test_page_views_are_recorded_after_a_flush_under_one_anonymous_visitor(client, app, session, engine):
    await seeded(session)
    first = await client.get("/")
    visitor = first.cookies.get(funnel.VISITOR_COOKIE) or client.cookies.get(funnel.VISITOR_COOKIE)
    assert visitor and funnel.valid_visitor_id(visitor)
    await client.get(f"/services/{SLUG}")
    await client.get(f"/services/{SLUG}")  # from the page cache: counted all the same
    await client.get("/services")  # the catalog is no funnel step
    assert await events(session) == []  # no write per view
    assert await app.state.funnel.flush(engine) == 3
    recorded = await events(session)
    service_id = await session.scalar(sa.select(Service.id).where(Service.slug == SLUG))
    assert [(e.kind, e.visitor_id, e.service_id) for e in recorded] == [
        (FunnelKind.LANDING_VIEW, visitor, None),
        (FunnelKind.SERVICE_VIEW, visitor, service_id),
        (FunnelKind.SERVICE_VIEW, visitor, service_id),
    ]


async def test_a_forged_visitor_cookie_is_replaced_by_a_fresh_id(client, app, session, engine):
    await seeded(session)
    client.cookies.set(funnel.VISITOR_COOKIE, "<script>")
    response = await client.get("/")
    issued = response.cookies.get(funnel.VISITOR_COOKIE)
    assert issued and funnel.valid_visitor_id(issued)
    await app.state.funnel.flush(engine)
    assert [e.visitor_id for e in await events(session)] == [issued]


async def test_a_failed_flush_drops_the_batch_and_pages_go_on(client, app, session, engine):
    await seeded(session)
    buffer = app.state.funnel

    async def broken(*_args):
        raise ConnectionError("database away")

    buffer.writer = broken
    assert (await client.get("/")).status_code == 200
    assert await buffer.flush(engine) == 0
    assert buffer.dropped == 1 and buffer.pending == 0
    assert (await client.get("/")).status_code == 200
    assert (await client.get(f"/services/{SLUG}")).status_code == 200
    buffer.writer = funnel.copy_rows
    assert await buffer.flush(engine) == 2
    assert len(await events(session)) == 2


async def test_the_background_writer_flushes_a_full_batch(client, app, session):
    await seeded(session)
    app.state.funnel.batch_size = 3
    for _ in range(3):
        await client.get("/")
    for _ in range(50):
        if len(await events(session)) == 3:
            break
        await session.rollback()
        await asyncio.sleep(0.05)
    assert len(await events(session)) == 3


async def test_paid_follows_the_visitor_who_started_the_checkout(session):
    await seeded(session)
    service_id = await session.scalar(sa.select(Service.id).where(Service.slug == SLUG))
    uow = UnitOfWork(session)
    await funnel.record_checkout_started(uow, visitor_id="v" * 22, service_id=service_id, order_id=4242)
    await uow.write(companions=[funnel.paid_with_write(uow, order_id=4242)])
    await uow.write(companions=[funnel.paid_with_write(uow, order_id=9999)])  # no storefront checkout: no event
    await session.commit()
    assert [(e.kind, e.visitor_id, e.service_id, e.order_id) for e in await events(session)] == [
        (FunnelKind.CHECKOUT_STARTED, "v" * 22, service_id, 4242),
        (FunnelKind.PAID, "v" * 22, service_id, 4242),
    ]
