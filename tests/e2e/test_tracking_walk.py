"""A client follows their order on a phone: the tracking page shows the delivery so far with the follower chart,
and, while the page stays open, the bar and the status text move on as the provider reports progress."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.actors import Actor
from app.db.session import engine_for, transaction
from app.demo.seed import GROWTH_SCENARIO
from app.fulfillment.commands import UpstreamProgress, record_progress
from app.orders.commands import renew_tracking_link
from app.orders.models import Order
from app.orders.states import LineStatus
from app.uow import UnitOfWork
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PROVIDER = Actor.worker("provider poll")


async def tracking_link(server: LiveServer) -> tuple[str, int]:
    """A fresh tracking link for the seeded order whose Instagram profile is being delivered, and its line id."""
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        order_id = await session.scalar(sa.select(Order.id).where(Order.idempotency_key == GROWTH_SCENARIO))
        assert order_id is not None
        token = await renew_tracking_link(UnitOfWork(session), order_id=order_id, actor=Actor.system("e2e"))
        order = await session.get_one(Order, order_id)
        return f"/track/{token}", order.lines[0].id


async def provider_reports(server: LiveServer, line_id: int, remains: int) -> None:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        progress = UpstreamProgress(LineStatus.IN_PROGRESS, start_count=812, remains=remains)
        await record_progress(UnitOfWork(session), line_id=line_id, actor=PROVIDER, progress=progress)


async def open_page(browser: Any, server: LiveServer, viewport: dict[str, int], errors: list[str]) -> Any:
    context = await browser.new_context(
        base_url=server.base_url, viewport=viewport, locale="en-GB", is_mobile=viewport == PHONE
    )
    context.set_default_timeout(10_000)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page


async def test_the_tracking_page_on_a_phone_updates_itself_as_the_delivery_progresses(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    path, line_id = await tracking_link(live_server)
    errors: list[str] = []
    page = await open_page(browser, live_server, PHONE, errors)
    try:
        await page.clock.install()
        await page.goto(path)
        label = page.locator('[data-line="1"] [data-label]')
        await expect(label).to_have_text("In progress — 1,100 of 2,500 delivered")
        await expect(page.locator('[data-line="1"] [data-bar]')).to_have_attribute("aria-valuenow", "44")
        await expect(page.locator("figure.follower-chart svg title")).to_contain_text("instagram.com/lena.schmidt")
        await shot(page, "phone before")

        await provider_reports(live_server, line_id, remains=400)
        await page.clock.run_for(16_000)  # the page asks again every 15 s

        await expect(label).to_have_text("In progress — 2,100 of 2,500 delivered")
        await expect(page.locator('[data-line="1"] [data-bar]')).to_have_attribute("aria-valuenow", "84")
        await expect(page.locator('[data-line="1"] [data-delivered]')).to_have_text("2,100")
        await page.clock.resume()
        await page.wait_for_timeout(800)  # the bar's transition, for the screenshot
        await shot(page, "phone after")
        assert errors == []
    finally:
        await page.context.close()

    desktop = await open_page(browser, live_server, DESKTOP, errors)
    try:
        await desktop.goto(path)
        await expect(desktop.locator("ol.timeline")).to_contain_text("Payment received")
        await shot(desktop, "desktop")
        assert errors == []
    finally:
        await desktop.context.close()
