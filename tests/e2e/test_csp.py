"""Under the Content-Security-Policy the back office still works, and no page makes the browser refuse anything.

Every kind of admin page is opened in Chromium with a listener for CSP violations (the ``securitypolicyviolation``
event and the console's "Refused to ..." errors); any violation fails the test. Along the way the behaviour
that needs scripts is exercised: search, filters (status and date range), select boxes, "select all" and a
list action, an action with a toast, the board's 30-second refresh, the language switcher.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from app.accounts.models import Role
from tests.e2e.conftest import LiveServer, login

pytestmark = pytest.mark.e2e

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (event) {
  var blocked = event.blockedURI || 'inline';
  window.__cspViolations.push(event.violatedDirective + ' ' + blocked + ' @ ' + location.pathname);
});
"""


REFUSED: dict[int, list[str]] = {}  # id(page) -> console errors about the CSP


@pytest.fixture
async def watched(page: Any) -> AsyncIterator[Any]:
    """The page, recording every CSP violation in the browser; the test fails if any was recorded."""
    refused = REFUSED.setdefault(id(page), [])

    def on_console(message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or text.startswith("Refused to")):
            refused.append(f"{page.url}: {text}")

    page.on("console", on_console)
    await page.add_init_script(RECORD_VIOLATIONS)
    try:
        yield page
    finally:
        REFUSED.pop(id(page), None)
    assert refused == [], "CSP violations:\n" + "\n".join(refused)


async def assert_no_violation(page: Any) -> None:
    """Nothing refused on the page now shown (its own record) nor on any page before (the console's)."""
    recorded = await page.evaluate("window.__cspViolations || []")
    assert recorded == [], recorded
    assert REFUSED.get(id(page), []) == []


async def test_login_dashboard_and_the_language_switcher(watched: Any, live_server: LiveServer) -> None:
    page = watched
    await page.goto(live_server.url("/admin/login"))
    await assert_no_violation(page)
    await login(page, live_server, Role.ADMIN)
    await expect(page.locator("h2.page-title")).to_have_text("Dashboard")
    await assert_no_violation(page)

    await page.locator("a[title=Language]").click()  # a bootstrap dropdown: needs tabler.js
    await page.locator(".dropdown-menu a.dropdown-item", has_text="Deutsch").click()
    await page.wait_for_url(re.compile(r"[?&]lang=de"))
    await expect(page.locator("h2.page-title")).to_have_text("Übersicht")
    await assert_no_violation(page)
    await page.goto(live_server.url("/admin/?lang=en"))


async def test_order_list_search_filters_details_and_an_action(watched: Any, live_server: LiveServer) -> None:
    page = watched
    number = live_server.orders["seed:queued"]
    await login(page, live_server, Role.STAFF, path="/admin/order/list")
    await assert_no_violation(page)

    # Search (SQLAdmin's main.js).
    await page.fill("#search-input", number)
    await page.click("#search-button")
    await page.wait_for_url(re.compile(r"[?&]search="))
    await expect(page.locator("table tbody tr")).to_have_count(1)

    # Status filter (a link) and the date-range filter (admin.js): both narrow the list.
    await page.goto(live_server.url("/admin/order/list"))
    await page.locator("#filters-toggle").click()  # the panel is folded until asked for
    await page.locator("a[href*='status=']").first.click()
    await page.wait_for_url(re.compile(r"[?&]status="))
    form = page.locator("form[data-date-range=created_at]")
    await form.locator("input[name=from]").fill("2000-01-01")
    await form.locator("input[name=to]").fill("2000-01-31")
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(r"created_at=2000-01-01\.\.2000-01-31"))
    await expect(page.locator("table tbody tr[data-row], table tbody input.select-box")).to_have_count(0)
    await assert_no_violation(page)

    # "Select all" and a list action (main.js builds the URL with the selected ids).
    await page.goto(live_server.url("/admin/order/list"))
    await page.locator("#select-all").check()
    assert await page.locator("input.select-box:checked").count() > 0
    await page.locator("#dropdownMenuButton").click()
    await page.locator("[id^=action-custom-]", has_text="Add note").click()
    await page.wait_for_url(re.compile(r"/admin/order/action/add-note\?pks=\d"))
    await assert_no_violation(page)

    # Details, then an action with a form; its toast is shown by admin.js.
    await page.goto(live_server.url("/admin/order/list"))
    await page.fill("#search-input", number)
    await page.press("#search-input", "Enter")
    await page.wait_for_url(re.compile(r"[?&]search="))
    await page.locator("table tbody a[href*='/admin/order/details/']").first.click()
    await page.wait_for_url(re.compile(r"/admin/order/details/\d+$"))
    await assert_no_violation(page)
    order_id = page.url.rsplit("/", 1)[1]
    await page.goto(
        live_server.url(f"/admin/order/action/add-note?pks={order_id}&next=/admin/order/details/{order_id}")
    )
    await page.fill("#field-note", "Checked under the CSP")
    await page.click("[data-testid=confirm-action]")
    await page.wait_for_url(re.compile(rf"/admin/order/details/{order_id}"))
    await expect(page.locator(".toast.admin-toast.show")).to_be_visible()
    await expect(page.locator("[data-testid=order-timeline]")).to_contain_text("Checked under the CSP")
    await assert_no_violation(page)


async def test_create_and_edit_forms_with_select_boxes(watched: Any, live_server: LiveServer) -> None:
    page = watched
    await login(page, live_server, Role.ADMIN, path="/admin/category/create")
    await page.fill("#slug", "csp-category")
    await page.select_option("#platform", value="tiktok")
    await page.fill("#name_de", "CSP Kategorie")
    await page.fill("#name_en", "CSP category")
    await page.click("input[type=submit][value=Save]")
    await page.wait_for_url(re.compile(r"/admin/category/list"))
    await expect(page.locator("table tbody tr", has_text="CSP category")).to_have_count(1)
    await assert_no_violation(page)

    await page.goto(live_server.url("/admin/service/list"))
    await page.locator("table tbody a[href*='/admin/service/edit/']").first.click()
    await page.wait_for_url(re.compile(r"/admin/service/edit/\d+"))
    await expect(page.locator("#category")).to_be_visible()
    await assert_no_violation(page)
    await page.goto(live_server.url("/admin/service/create"))
    await page.select_option("#category", label="Instagram")
    await assert_no_violation(page)
    await page.goto(live_server.url("/admin/staff-user/list"))
    await page.locator("table tbody a[href*='/admin/staff-user/details/']").first.click()
    await page.wait_for_url(re.compile(r"/admin/staff-user/details/\d+"))
    await assert_no_violation(page)


async def test_the_board_refreshes_every_30_seconds(watched: Any, live_server: LiveServer) -> None:
    page = watched
    await page.clock.install()
    await login(page, live_server, Role.STAFF, path="/admin/fulfillment")
    await expect(page.locator("[data-testid=fulfillment-board]")).to_be_visible()
    await expect(page.locator("#board-updated")).not_to_have_text("")

    async with page.expect_response(re.compile(r"/admin/fulfillment\?partial=1")) as refresh:
        await page.clock.run_for(31_000)
    assert (await refresh.value).status == 200
    await expect(page.locator("[data-testid=fulfillment-board]")).to_be_visible()
    await assert_no_violation(page)


async def test_error_pages(watched: Any, live_server: LiveServer) -> None:
    page = watched
    await login(page, live_server, Role.FINANCE, path="/admin/staff-user/list")
    await expect(page.locator("[data-testid=forbidden]")).to_be_visible()
    await assert_no_violation(page)
    await page.goto(live_server.url("/admin/order/details/999999999"))
    await expect(page.locator(".empty-header")).to_have_text("404")
    await assert_no_violation(page)
    response = await page.goto(live_server.url("/no-such-page"))
    assert response.status == 404
    await assert_no_violation(page)
