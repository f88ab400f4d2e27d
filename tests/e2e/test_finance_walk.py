"""Finance reads the catalog but cannot change it: no create or edit controls, and a 403 naming who may."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from app.accounts.models import Role
from tests.e2e.conftest import LiveServer, login

pytestmark = pytest.mark.e2e


async def test_finance_sees_services_without_edit_controls(page: Any, live_server: LiveServer, shot: Any) -> None:
    await login(page, live_server, Role.FINANCE, path="/admin/service/list")

    rows = page.locator("table tbody tr")
    await expect(rows.first).to_contain_text("Instagram followers (Germany)")
    assert await rows.count() > 1
    await expect(page.get_by_role("link", name=re.compile(r"New Service"))).to_have_count(0)
    await expect(page.locator("a[href*='/admin/service/create']")).to_have_count(0)
    await expect(page.locator("a[href*='/admin/service/edit/']")).to_have_count(0)
    await expect(page.locator("a[href*='/admin/service/details/']").first).to_be_visible()
    await shot(page, "services")


async def test_finance_is_refused_the_service_form(page: Any, live_server: LiveServer, shot: Any) -> None:
    await login(page, live_server, Role.FINANCE)

    response = await page.goto(live_server.url("/admin/service/create"))
    assert response is not None
    assert response.status == 403
    await expect(page.locator("[data-testid=forbidden]")).to_be_visible()
    await expect(page.locator("[data-testid=needed-roles]")).to_have_text("admin, staff")
    await expect(page.locator("form input[name=slug]")).to_have_count(0)
    await shot(page, "forbidden")

    await page.get_by_role("link", name="Back to the dashboard").click()
    await page.wait_for_url(re.compile(r"/admin/?$"))
    await expect(page.locator("[data-testid=revenue]")).to_be_visible()


async def test_finance_sees_an_order_with_refunds_as_its_only_line_actions(page: Any, live_server: LiveServer) -> None:
    number = live_server.orders["seed:queued"]
    await login(page, live_server, Role.FINANCE, path="/admin/order/list")
    await page.fill("#search-input", number)
    await page.press("#search-input", "Enter")
    await page.wait_for_url(re.compile(r"[?&]search="))
    await page.locator("table tbody tr a[href*='/admin/order/details/']").first.click()

    await expect(page.locator("[data-testid=order-lines]")).to_contain_text("queued")
    await expect(page.locator("[data-testid=order-timeline] > li").first).to_be_visible()
    # Finance gives money back (refunds); fulfillment actions (hold, retry, refill, cancel) are staff's.
    actions = await page.locator("[data-testid^=line-action-]").evaluate_all("els => els.map(e => e.dataset.testid)")
    assert set(actions) == {"line-action-refund-line", "line-action-refund-remains"}
