"""The portal's "Metrics" page: each Instagram profile the client ordered for, with growth, charts and order
starts; the provider's counts where Instagram shows none; nothing of another client's; nothing when off."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.asgi import create_app
from app.config import Settings
from tests import factories
from tests.integration.instagram.graph import graph_on
from tests.integration.instagram.history import anna_history, ben_history
from tests.integration.portal.conftest import log_in


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return graph_on(settings)


def profile_section(page: str, handle: str) -> str:
    start = page.index(f'data-handle="{handle}"')
    end = page.find('data-testid="ig-profile"', start)
    return page[start : end if end != -1 else len(page)]


def growth(section: str, days: int) -> str:
    found = re.search(rf'data-testid="growth-{days}">(.*?)</dd>', section, re.S)
    assert found is not None
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def test_the_metrics_page_shows_growth_over_7_30_and_90_days_from_the_snapshots(client, session: AsyncSession):
    await factories.company_settings(session)
    orders = await anna_history(session)
    await session.commit()
    await log_in(client, session, "anna@example.com")

    home = await client.get("/portal")
    page = (await client.get("/portal/metrics")).text

    assert 'href="/portal/metrics"' in home.text
    cafe, shop = profile_section(page, "anna.cafe"), profile_section(page, "anna.shop")
    # 2,000 now; 1,700 eight days ago, 1,200 forty days ago, 1,000 a hundred days ago.
    assert [growth(cafe, days) for days in (7, 30, 90)] == ["+300", "+800", "+1,000"]
    # 650 now, 500 ten days ago, nothing older.
    assert [growth(shop, days) for days in (7, 30, 90)] == ["+150", "not enough history", "not enough history"]
    assert 'data-testid="provider-counts"' not in cafe + shop
    # Followers, following and posts, each with both order starts marked (45 and 10 days ago, inside the chart).
    assert cafe.count("<svg") == 3 and cafe.count('class="chart-start"') == 6
    assert "Followers of @anna.cafe" in cafe and "Accounts @anna.cafe follows" in cafe and "Posts of @anna.cafe" in cafe
    assert "1,100 → 2,000" in cafe  # the drawn 90 days start at the snapshot 60 days ago
    assert re.findall(r'data-testid="order-start">(SMP-[\d-]+)', cafe) == [
        orders["first"].number,
        orders["second"].number,
    ]


async def test_a_profile_instagram_does_not_show_is_charted_from_the_providers_counts_and_says_so(
    client, session: AsyncSession
):
    await factories.company_settings(session)
    orders = await anna_history(session)
    await session.commit()
    await log_in(client, session, "anna@example.com")

    private = profile_section((await client.get("/portal/metrics?lang=en")).text, "anna.private")

    assert 'data-testid="provider-counts"' in private and "Provider counts" in private
    assert private.count("<svg") == 1 and "500 → 1,300" in private  # start count, then 800 delivered
    assert 'class="chart-start"' in private  # the order's start is the chart's first point
    assert [growth(private, days) for days in (7, 30, 90)] == ["+800", "not enough history", "not enough history"]
    assert orders["private"].number in private

    german = profile_section((await client.get("/portal/metrics?lang=de")).text, "anna.private")
    assert "Zahlen des Anbieters" in german and "+800" in german and "noch zu wenig Verlauf" in german


async def test_a_client_sees_only_their_own_profiles(client, session: AsyncSession):
    await factories.company_settings(session)
    await anna_history(session)
    await ben_history(session)
    await session.commit()

    await log_in(client, session, "ben@example.com")
    bens = (await client.get("/portal/metrics")).text
    await log_in(client, session, "anna@example.com")
    annas = (await client.get("/portal/metrics")).text

    assert "ben.gym" in bens and "anna." not in bens and "+600" in profile_section(bens, "ben.gym")
    assert "anna.cafe" in annas and "ben.gym" not in annas and "7,600" not in annas


async def test_logged_out_visitors_are_sent_to_the_login_form(client, session: AsyncSession):
    await factories.company_settings(session)
    await session.commit()

    answer = await client.get("/portal/metrics", follow_redirects=False)

    assert answer.status_code == 303 and answer.headers["location"] == "/portal"


async def test_without_snapshots_configured_the_portal_says_nothing_about_metrics(
    session: AsyncSession, settings: Settings
):
    await factories.company_settings(session)
    await anna_history(session)
    await session.commit()
    off = create_app(replace(settings, instagram_source="off"))
    async with AsyncTestClient(app=off, base_url="http://testserver.local") as client:
        await log_in(client, session, "anna@example.com")
        home = await client.get("/portal")
        metrics = await client.get("/portal/metrics")

    assert home.status_code == 200 and "/portal/metrics" not in home.text and "Metrics" not in home.text
    assert metrics.status_code == 404 and "anna.cafe" not in metrics.text
