"""The rendered-page cache of the landing page and the catalog: fresh within a second, one language per page."""

from __future__ import annotations

import asyncio
import re

import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from app.actors import Actor
from app.asgi import create_app
from app.catalog import commands
from app.catalog.models import Service
from app.demo.seed import seed_demo_data
from app.uow import UnitOfWork
from storefront.page_cache import FORM_KEY_SLOT, FRESHNESS_SECONDS

ACTOR = Actor.system("test")
SLUG = "instagram-follower-de"


async def seeded(session):
    await seed_demo_data(session)
    await session.commit()


async def rename(session, name_en: str) -> None:
    service_id = await session.scalar(sa.select(Service.id).where(Service.slug == SLUG))
    await commands.update_service(UnitOfWork(session), service_id=service_id, values={"name_en": name_en}, actor=ACTOR)
    await session.commit()


async def test_a_catalog_edit_shows_on_the_landing_page_of_every_worker_within_the_freshness_bound(
    client, session, settings
):
    await seeded(session)
    # A second app stands for a second worker process: its own cache, the same database.
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as other:
        for worker in (client, other):
            assert "Instagram followers (Germany)" in (await worker.get("/?lang=en")).text
        await rename(session, "Instagram followers from Germany, refreshed")
        await asyncio.sleep(FRESHNESS_SECONDS + 0.1)
        for worker in (client, other):
            page = (await worker.get("/?lang=en")).text
            assert "Instagram followers from Germany, refreshed" in page
            assert "Instagram followers (Germany)" not in page
            assert "Instagram Follower (Deutschland)" in (await worker.get("/")).text  # German name unchanged


async def test_the_catalog_page_is_rendered_again_after_an_edit(client, session):
    await seeded(session)
    assert "Instagram followers (Germany)" in (await client.get("/services?platform=instagram&lang=en")).text
    await rename(session, "Instagram followers, new name")
    await asyncio.sleep(FRESHNESS_SECONDS + 0.1)
    assert "Instagram followers, new name" in (await client.get("/services?platform=instagram&lang=en")).text


async def test_cached_pages_never_mix_languages(client, session):
    await seeded(session)
    for _ in range(2):  # the second round comes from the cache
        german = await client.get("/", headers={"Accept-Language": "de"})
        english = await client.get("/", headers={"Accept-Language": "en"})
        by_query = await client.get("/services?lang=en")
        german_catalog = await client.get("/services", headers={"Accept-Language": "de-DE"})
        assert '<html lang="de">' in german.text and "Instagram Follower (Deutschland)" in german.text
        assert '<html lang="en">' in english.text and "Instagram followers (Germany)" in english.text
        assert '<html lang="en">' in by_query.text
        assert '<html lang="de">' in german_catalog.text


async def test_cached_pages_keep_their_security_headers_and_set_a_visitor_cookie(client, session):
    await seeded(session)
    for _ in range(2):
        response = await client.get("/")
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-type"].startswith("text/html")


async def test_query_strings_of_the_visitors_choosing_do_not_grow_the_cache(client, app, session):
    await seeded(session)
    for n in range(20):
        assert (await client.get(f"/?utm_source=x{n}")).status_code == 200
        assert (await client.get(f"/services?platform=nonsense{n}")).status_code == 200
        assert (await client.get(f"/services/no-such-service-{n}")).status_code == 404
    assert len(app.state.page_cache._pages) == 2  # "/" and "/services", German


async def test_a_cached_service_page_gets_a_fresh_form_key_on_every_answer(client, session):
    await seeded(session)
    keys = set()
    for _ in range(3):
        page = (await client.get(f"/services/{SLUG}?lang=en")).text
        assert FORM_KEY_SLOT not in page
        match = re.search(r'name="form_key" value="([A-Za-z0-9_-]{20,})"', page)
        assert match is not None
        keys.add(match.group(1))
    assert len(keys) == 3


async def test_a_deactivated_service_page_is_gone_within_the_freshness_bound(client, session):
    await seeded(session)
    assert (await client.get(f"/services/{SLUG}")).status_code == 200
    service_id = await session.scalar(sa.select(Service.id).where(Service.slug == SLUG))
    await commands.update_service(UnitOfWork(session), service_id=service_id, values={"is_active": False}, actor=ACTOR)
    await session.commit()
    await asyncio.sleep(FRESHNESS_SECONDS + 0.1)
    assert (await client.get(f"/services/{SLUG}", headers={"Accept": "text/html"})).status_code == 404
