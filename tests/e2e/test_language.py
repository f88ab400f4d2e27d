"""The back office speaks German and English: SQLAdmin's own texts and ours follow the chosen language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from app.accounts.models import Role
from tests.e2e.conftest import GERMAN_STAFF, LiveServer, login

pytestmark = pytest.mark.e2e


async def test_switching_to_german_and_back(page: Any, live_server: LiveServer, shot: Any) -> None:
    await login(page, live_server, Role.STAFF)  # an English-speaking staff member
    await expect(page.get_by_role("link", name="Logout")).to_be_visible()

    await page.goto(live_server.url("/admin/?lang=de"))
    await expect(page.locator("h2.page-title")).to_have_text("Übersicht")
    await expect(page.get_by_role("link", name="Abmelden")).to_be_visible()  # SQLAdmin's own catalog
    await expect(page.locator("[data-testid=revenue]")).to_contain_text("Heute")  # ours
    await expect(page.locator("[data-testid=revenue] .h1").first).to_have_text(re.compile(r"^[\d.]+,\d\d\s€$"))
    await shot(page, "dashboard-de")

    # The choice is remembered: the next page comes without ?lang and is German too.
    await page.goto(live_server.url("/admin/service/list"))
    await expect(page.locator("#search-button")).to_have_text("Suche")
    await expect(page.locator("table thead")).to_contain_text("Name (Englisch)")
    await shot(page, "services-de")

    await page.locator("a[title=Sprache]").click()
    await page.locator(".dropdown-menu a.dropdown-item", has_text="English").click()
    await page.wait_for_url(re.compile(r"[?&]lang=en"))
    await expect(page.get_by_role("link", name="Logout")).to_be_visible()
    await expect(page.locator("#search-button")).to_have_text("Search")


async def test_a_german_speaking_member_lands_in_german(page: Any, live_server: LiveServer) -> None:
    await login(page, live_server, GERMAN_STAFF)  # the browser asks for English; the account says German
    await expect(page.locator("h2.page-title")).to_have_text("Übersicht")
    await expect(page.get_by_role("link", name="Abmelden")).to_be_visible()
