"""A client logs in to the portal on a phone with the link from their mail (read from the outbox, as the demo's
Outbox shows it), sees their orders in German, opens one and finds its delivery and its invoice."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.customers.models import Customer
from app.db.session import engine_for, transaction
from app.demo.seed import GROWTH_SCENARIO
from app.notifications.models import EmailOutbox
from app.orders.models import Order
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


async def client_of_growth_order(server: LiveServer) -> tuple[str, str]:
    """(email, order number) of the seeded client whose Instagram profile is being delivered."""
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        row = (
            await session.execute(
                sa.select(Customer.email, Order.number)
                .join(Order, Order.customer_id == Customer.id)
                .where(Order.idempotency_key == GROWTH_SCENARIO)
            )
        ).one()
        return row.email, row.number


async def mailed_link(server: LiveServer, email: str) -> str:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        url = await session.scalar(
            sa.select(EmailOutbox.context["login_url"].astext)
            .where(EmailOutbox.template == "portal_link", EmailOutbox.to_address == email)
            .order_by(EmailOutbox.id.desc())
            .limit(1)
        )
    assert url is not None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_client_logs_in_with_the_mailed_link_on_a_phone_and_sees_an_order(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    email, number = await client_of_growth_order(live_server)
    context = await browser.new_context(base_url=live_server.base_url, viewport=PHONE, is_mobile=True, locale="de-DE")
    context.set_default_timeout(10_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await page.goto("/portal?lang=de")
        await shot(page, "login form")
        await page.fill("#email", email)
        await page.click("form[action='/portal'] button[type=submit]")
        await expect(page.get_by_test_id("link-sent")).to_be_visible()
        await shot(page, "link sent")

        await page.goto(await mailed_link(live_server, email))
        await shot(page, "confirm")
        await page.get_by_test_id("confirm-login").click()
        await expect(page.get_by_test_id("orders")).to_contain_text(number)
        await expect(page.get_by_role("heading", name="Ihre Bestellungen")).to_be_visible()
        await shot(page, "overview")

        await page.get_by_role("link", name=number).click()
        await expect(page.locator('[data-line="1"] [data-label]')).to_contain_text("In Arbeit")
        await expect(page.get_by_test_id("order-again")).to_be_visible()
        await shot(page, "order")

        await page.goto("/portal/profile")
        await shot(page, "profile")
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.goto("/portal")
        await shot(page, "overview on a desktop")
        await page.get_by_test_id("logout").click()
        await expect(page.locator("#email")).to_be_visible()
        assert errors == []
    finally:
        await context.close()
