"""The public catalog pages in German and English."""

from __future__ import annotations

from app.demo.seed import seed_demo_data


async def seeded(session):
    await seed_demo_data(session)
    await session.commit()


async def test_home_lists_popular_services_in_german_by_default(client, session):
    await seeded(session)
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="de">' in response.text
    assert "Instagram Follower (Deutschland)" in response.text
    assert "9,90\xa0€ pro 1000" in response.text or "9,90 € pro 1000" in response.text


async def test_english_is_chosen_by_query_and_remembered_by_cookie(client, session):
    await seeded(session)
    english = await client.get("/services?lang=en")
    assert '<html lang="en">' in english.text
    assert "Instagram followers (Germany)" in english.text
    switch = await client.get("/lang/en?next=/services", follow_redirects=False)
    assert switch.status_code in (301, 302, 303, 307)
    assert switch.headers["location"] == "/services"
    assert "lang=en" in switch.headers["set-cookie"]


async def test_language_switch_never_redirects_off_site(client):
    response = await client.get("/lang/de?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"


async def test_platform_filter_shows_only_that_platform(client, session):
    await seeded(session)
    response = await client.get("/services?platform=tiktok&lang=en")
    assert "TikTok followers" in response.text
    assert "YouTube views" not in response.text


async def test_service_page_shows_price_examples_and_terms(client, session):
    await seeded(session)
    response = await client.get("/services/instagram-follower-de?lang=en")
    assert response.status_code == 200
    assert "Refill guarantee" in response.text and "30 days" in response.text
    assert "€9.90" in response.text  # 1000 followers


async def test_unknown_or_inactive_service_is_a_friendly_404(client, session):
    await seeded(session)
    response = await client.get("/services/does-not-exist?lang=en", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "no longer offered" in response.text


async def test_unknown_platform_filter_is_ignored_not_an_error(client, session):
    await seeded(session)
    response = await client.get("/services?platform=myspace")
    assert response.status_code == 200


async def test_german_error_page_is_translated(client, session):
    await seeded(session)
    response = await client.get("/services/does-not-exist", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.text
    assert "nicht mehr angeboten" in response.text
