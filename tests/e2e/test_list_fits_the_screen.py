"""The orders and order lines lists fit a 1280 px screen with the filter panel open (no sideways scrolling), in
German and English, and so do the customers, payments and refunds (invoices at 1440 px); German staff filter a list
by typing German dates and read a provider's refusal in German beside the
provider's words, with the line's cancel in red. Screenshots go to /tmp/e2e-shots."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from app.accounts.models import Role
from tests.e2e.conftest import GERMAN_STAFF, LiveServer, login, sized_page

pytestmark = pytest.mark.e2e

# How far the page and the list's own scroll box reach beyond what is visible (0 when nothing scrolls sideways).
OVERFLOW = """() => {
  const box = document.querySelector('.table-responsive');
  return {
    page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    list: box ? box.scrollWidth - box.clientWidth : -1,
  };
}"""


@pytest.mark.parametrize("width", [1280, 1440])
@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("listed", ["order-line", "order"])
async def test_the_order_and_order_lines_lists_fit_beside_the_open_filters(
    browser: Any, live_server: LiveServer, shot: Any, listed: str, language: str, width: int
) -> None:
    user = GERMAN_STAFF if language == "de" else live_server.users[Role.STAFF]
    async with sized_page(browser, live_server, language, width=width, height=800) as page:
        await login(page, live_server, user, path=f"/admin/{listed}/list")
        await page.locator("#filters-toggle").click()
        await expect(page.locator("#filter-sidebar")).to_be_visible()
        await expect(page.locator("table tbody tr").first).to_be_visible()
        await shot(page, f"{listed}-list-{language}-{width}")

        assert await page.evaluate(OVERFLOW) == {"page": 0, "list": 0}
        headers = await page.locator("table thead th").all_inner_texts()
        assert len([text for text in headers if text.strip()]) >= 5  # e.g. status, order, link, quantity, provider


@pytest.mark.parametrize(
    ("listed", "width"),
    [(listed, width) for listed in ("customer", "payment", "refund") for width in (1280, 1440)] + [("invoice", 1440)],
)
async def test_the_lists_finance_reads_fit_the_screen_in_german(
    browser: Any, live_server: LiveServer, shot: Any, listed: str, width: int
) -> None:
    """Customers, payments and refunds at 1280 and 1440 px; invoices, with their sync state, tax treatment and
    downloads, at 1440 px (at 1280 px their list scrolls sideways)."""
    async with sized_page(browser, live_server, "de", width=width, height=800) as page:
        await login(page, live_server, GERMAN_STAFF, path=f"/admin/{listed}/list")
        await expect(page.locator("table thead th").first).to_be_visible()
        await shot(page, f"{listed}-list-de-{width}")

        assert await page.evaluate(OVERFLOW) == {"page": 0, "list": 0}


async def test_german_staff_filter_orders_by_typing_german_dates(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    async with sized_page(browser, live_server, "de") as page:
        await login(page, live_server, GERMAN_STAFF, path="/admin/order/list")
        await page.locator("#filters-toggle").click()
        created = page.locator("#filter-sidebar form[data-date-range=created_at]")
        start = created.locator("input[name=from]")
        await expect(start).to_have_attribute("placeholder", "TT.MM.JJJJ")
        await start.fill("01.01.2020")
        await created.locator("input[name=to]").fill("31.12.2099")
        await created.locator("button[type=submit]").click()
        await page.wait_for_url(re.compile(r"created_at=01\.01\.2020\.\.31\.12\.2099"))
        await expect(page.locator("table tbody tr").first).to_be_visible()
        await expect(created.locator("input[name=from]")).to_have_value("01.01.2020")
        await shot(page, "orders-created-between-german-dates")


async def test_german_staff_read_a_providers_refusal_beside_its_words(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    number = live_server.orders["seed:failed"]
    async with sized_page(browser, live_server, "de") as page:
        await login(page, live_server, GERMAN_STAFF, path=f"/admin/order/list?search={number}")
        await page.get_by_role("link", name=number).first.click()
        reason = page.locator("[data-testid=order-lines] [data-testid=line-reason]")
        await expect(reason.locator("[data-testid=provider-error-kind]")).to_have_text(
            "Dienst beim Anbieter nicht verfügbar"
        )
        await expect(reason.locator("[data-testid=provider-error-text]")).to_have_text("Incorrect service ID")
        cancel = page.locator("[data-testid=order-lines] [data-testid=line-action-cancel-line]")
        await expect(cancel).to_have_class(re.compile(r"\bbtn-danger\b"))
        await shot(page, "order-with-a-refused-line")
