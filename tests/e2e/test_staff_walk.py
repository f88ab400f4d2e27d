"""A staff member's day in the back office: dashboard, a new service, an order found, a line held and resumed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from app.accounts.models import Role
from tests.e2e.conftest import LiveServer, login

pytestmark = pytest.mark.e2e


async def test_staff_lands_on_the_dashboard(page: Any, live_server: LiveServer, shot: Any) -> None:
    await login(page, live_server, Role.STAFF)

    await expect(page.locator("h2.page-title")).to_have_text("Dashboard")
    cards = page.locator("[data-testid=revenue] .card")
    await expect(cards).to_have_count(3)
    await expect(cards.first).to_contain_text("€")
    await expect(page.locator("[data-testid=orders-by-status]")).to_contain_text("paid")
    await expect(page.locator("[data-testid=provider-balances]")).to_contain_text("Demo provider (sandbox)")
    await shot(page, "dashboard")


async def test_staff_creates_a_service(page: Any, live_server: LiveServer, shot: Any) -> None:
    await login(page, live_server, Role.STAFF, path="/admin/service/list")
    await page.get_by_role("link", name="+ New Service").click()
    await page.wait_for_url(re.compile(r"/admin/service/create$"))

    await page.fill("#slug", "instagram-saves-e2e")
    await page.select_option("#category", label="Instagram")
    await page.select_option("#kind", value="default")
    await page.fill("#name_de", "Instagram Speicherungen (E2E)")
    await page.fill("#name_en", "Instagram saves (E2E)")
    await page.fill("#description_de", "Echte Speicherungen für deinen Beitrag.")
    await page.fill("#description_en", "Real saves for your post.")
    await page.fill("#price", "4.50")
    await page.fill("#min_quantity", "100")
    await page.fill("#max_quantity", "10000")
    await page.fill("#refill_days", "30")
    await shot(page, "service-form")
    await page.click("input[type=submit][value=Save]")

    await page.wait_for_url(re.compile(r"/admin/service/list"))
    row = page.locator("table tbody tr", has_text="Instagram saves (E2E)")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("€4.50")
    await expect(row).to_contain_text("per 1000")
    await expect(row).to_contain_text("active")
    await shot(page, "service-list")


async def test_staff_holds_and_resumes_a_queued_line(page: Any, live_server: LiveServer, shot: Any) -> None:
    number = live_server.orders["seed:queued"]
    await login(page, live_server, Role.STAFF, path="/admin/order/list")

    await page.fill("#search-input", number)
    await page.press("#search-input", "Enter")
    await page.wait_for_url(re.compile(r"[?&]search="))
    rows = page.locator("table tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(number)
    await shot(page, "order-search")
    await rows.first.locator("a[href*='/admin/order/details/']").first.click()
    await page.wait_for_url(re.compile(r"/admin/order/details/\d+$"))
    details_url = page.url

    await expect(page.locator("h2.page-title")).to_contain_text(number)
    lines = page.locator("[data-testid=order-lines] tbody tr[data-line-id]")
    timeline = page.locator("[data-testid=order-timeline] > li")
    await expect(lines).to_have_count(1)
    line = lines.first
    await expect(line).to_contain_text("queued")
    events_before = await timeline.count()
    assert events_before > 0
    await shot(page, "order-details")

    # Hold: the confirmation page names the line and asks for a reason.
    await line.locator("[data-testid=line-action-hold-line]").click()
    await page.wait_for_url(re.compile(r"/admin/order-line/action/hold-line\?"))
    await expect(page.locator("form.card")).to_contain_text(f"{number}/1 · ")
    await page.fill("#field-reason", "Customer asked us to wait (e2e)")
    await shot(page, "hold-confirmation")
    await page.click("[data-testid=confirm-action]")

    await page.wait_for_url(details_url)
    await expect(page.locator(".toast-body")).to_contain_text(f"On hold: {number}/1")
    await expect(line).to_contain_text("on hold")
    await expect(line.locator("[data-testid=line-action-resume-line]")).to_be_visible()
    await expect(line.locator("[data-testid=line-action-hold-line]")).to_have_count(0)
    await expect(timeline).to_have_count(events_before + 1)
    await expect(page.locator("[data-testid=order-timeline]")).to_contain_text("Customer asked us to wait (e2e)")
    await shot(page, "line-on-hold")

    # Resume: no fields, just a confirmation.
    await line.locator("[data-testid=line-action-resume-line]").click()
    await page.wait_for_url(re.compile(r"/admin/order-line/action/resume-line\?"))
    await shot(page, "resume-confirmation")
    await page.click("[data-testid=confirm-action]")

    await page.wait_for_url(details_url)
    await expect(page.locator(".toast-body")).to_contain_text(f"Resumed: {number}/1")
    await expect(line).to_contain_text("queued")
    await expect(line.locator("[data-testid=line-action-hold-line]")).to_be_visible()
    await expect(timeline).to_have_count(events_before + 2)
    await shot(page, "line-queued-again")


AGE_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


def age_seconds(text: str) -> int:
    """Seconds in a short age as the board shows it: '45 s', '12 min', '5 h', '3 d'."""
    found = re.search(r"(\d+)\s*(min|s|h|d)\b", text)
    assert found, f"no age in {text!r}"
    return int(found.group(1)) * AGE_UNITS[found.group(2)]


async def test_stuck_lines_lead_from_the_dashboard_to_exactly_those_lines(page: Any, live_server: LiveServer) -> None:
    await login(page, live_server, Role.STAFF)
    flagged = int(await page.locator("[data-testid=attention-stuck] [data-testid=count]").inner_text())
    assert flagged > 0

    await page.click("[data-testid=attention-stuck]")
    await page.wait_for_url(re.compile(r"/admin/order-line/list\?attention=stuck$"))
    await expect(page.locator("table tbody tr")).to_have_count(flagged)
    await expect(page.locator("table tbody")).to_contain_text(live_server.orders["seed:stuck"])

    await page.goto(live_server.url("/admin/fulfillment#stuck"))
    await expect(page.locator("[data-queue=stuck] [data-testid=count-stuck]")).to_have_text(str(flagged))


async def test_stuck_lane_shows_how_long_lines_have_been_without_progress(
    page: Any, live_server: LiveServer, shot: Any
) -> None:
    await login(page, live_server, Role.STAFF, path="/admin/fulfillment")
    stuck = page.locator("[data-queue=stuck]")
    await shot(page, "board")
    threshold = 6 * 3600  # SMPLAT_STUCK_AFTER_HOURS defaults to 6
    await expect(stuck.locator(".card-header")).to_contain_text("no progress for 6 h or more")

    header = await stuck.locator(".card-header .text-secondary").inner_text()
    assert age_seconds(header.split("oldest", 1)[1]) >= threshold, header
    for age in await stuck.locator(".list-group-item .d-flex > span.text-secondary").all_inner_texts():
        assert age_seconds(age) >= threshold, age
