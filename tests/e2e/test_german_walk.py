"""A German-speaking admin walks every back-office page and meets no English label (the list beside the
translations: ``app/locale/de/untranslated_markers.txt``). Screenshots of every page go to /tmp/e2e-shots."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from app.accounts.models import Role
from app.i18n import LOCALE_DIR
from tests.e2e.conftest import LiveServer, login

pytestmark = pytest.mark.e2e

MARKERS_FILE = LOCALE_DIR / "de" / "untranslated_markers.txt"
# Everything a person reads on the page: the text, and the placeholders, tooltips and button values. Records'
# raw data (``pre``, ``code``: a provider's answer, a payload) and quotes marked ``translate="no"`` (a provider's
# error text) are data, not labels.
VISIBLE_TEXT = """() => [
  document.title,
  Array.from(document.querySelectorAll('pre, code, [translate=no]'), (e) => e.innerText)
    .reduce((text, data) => text.replace(data, ''), document.body.innerText),
  ...Array.from(document.querySelectorAll('[placeholder]'), (e) => e.getAttribute('placeholder')),
  ...Array.from(document.querySelectorAll('[title]'), (e) => e.getAttribute('title')),
  ...Array.from(document.querySelectorAll('input[type=submit], input[type=button]'), (e) => e.value),
  ...Array.from(document.querySelectorAll('option'), (e) => e.textContent),
].join('\\n')"""
FIXED_PAGES = [
    "/admin/",
    "/admin/fulfillment",
    "/admin/reports",
    "/admin/tax-advisor",
    "/admin/account/password",
    "/admin/no-such-page",
]


def markers() -> list[str]:
    lines = (line.strip() for line in MARKERS_FILE.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def english_on(text: str, words: list[str]) -> list[str]:
    """The marker words that stand in ``text`` as words of their own (``Save`` but not ``Saved``)."""
    return [word for word in words if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


def test_markers_are_found_as_whole_words_only() -> None:
    assert english_on("Suche · Actions", ["Search", "Actions"]) == ["Actions"]
    assert english_on("Gespeichert: is_active_since", ["is_active", "Save"]) == []


async def _links(page: Any, selector: str) -> list[str]:
    hrefs = await page.eval_on_selector_all(selector, "(links) => links.map((a) => a.getAttribute('href'))")
    return [href for href in hrefs if href and href.startswith(("/admin", "http"))]


async def _pages_to_walk(page: Any, server: LiveServer) -> list[str]:
    """The fixed pages, every list in the menu, and from each list its create form, first record and edit form."""
    urls = list(FIXED_PAGES)
    lists = sorted({re.sub(r"^https?://[^/]+", "", href) for href in await _links(page, "aside a[href*='/list']")})
    for url in lists:
        urls.append(url)
        await page.goto(server.url(url))
        urls += [re.sub(r"^https?://[^/]+", "", href) for href in (await _links(page, "a[href$='/create']"))[:1]]
        details = await _links(page, "table tbody a[href*='/details/']")
        edits = await _links(page, "table tbody a[href*='/edit/']")
        urls += [re.sub(r"^https?://[^/]+", "", href) for href in details[:1] + edits[:1]]
    return list(dict.fromkeys(urls))


async def test_a_german_admin_meets_no_english_on_any_page(page: Any, live_server: LiveServer, shot: Any) -> None:
    words = markers()
    await login(page, live_server, Role.ADMIN, path="/admin/?lang=de")
    urls = await _pages_to_walk(page, live_server)
    assert len(urls) > 30  # every list, its forms and records, and the custom pages

    found: dict[str, list[str]] = {}
    for url in urls:
        await page.goto(live_server.url(url))
        await shot(page, url.removeprefix("/admin/") or "dashboard")
        if english := english_on(await page.evaluate(VISIBLE_TEXT), words):
            found[url] = english
    assert not found, "\n".join(f"{url}: {', '.join(words)}" for url, words in found.items())


async def test_the_login_page_speaks_german(page: Any, live_server: LiveServer, shot: Any) -> None:
    await page.goto(live_server.url("/admin/login?lang=de"))
    await shot(page, "login")
    assert english_on(await page.evaluate(VISIBLE_TEXT), markers()) == []


async def test_the_service_form_fills_the_slug_warns_and_shows_the_margin(
    page: Any, live_server: LiveServer, shot: Any
) -> None:
    await login(page, live_server, Role.ADMIN, path="/admin/service/create?lang=de")

    await page.fill("#name_de", "Instagram Speicherungen für Bäcker")
    await expect(page.locator("#slug")).to_have_value("instagram-speicherungen-fuer-baecker")
    await page.fill("#slug", "speicherungen")
    await page.fill("#name_de", "Instagram Speicherungen")
    await expect(page.locator("#slug")).to_have_value("speicherungen")  # once edited, the slug is the user's
    warning = page.locator("[data-testid=english-missing]")
    await expect(warning).to_be_visible()
    await page.fill("#description_en", "Real saves.")
    await expect(warning).to_be_hidden()
    await shot(page, "service-create")

    await page.goto(live_server.url("/admin/service/list"))
    await page.locator("table tbody a[href*='/edit/']").first.click()
    margin = page.locator("[data-testid=service-margin]")
    await page.fill("#price", "1000,00")
    await expect(margin).to_contain_text(re.compile(r"Anbieterkosten .+ · Marge \d+ %"))
    await shot(page, "service-edit-margin")
