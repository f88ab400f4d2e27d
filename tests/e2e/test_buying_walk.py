"""A client buys on a phone, in German: service page, order form with live price, the (fake) Stripe checkout,
back to their order page, paid — and the back office shows the order paid with its lines queued."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.db.session import engine_for, transaction
from app.notifications.models import EmailOutbox, EmailStatus
from app.orders.models import Order
from app.orders.states import LineStatus, OrderStatus, PaymentStatus
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

SLUG = "instagram-follower-de"
PHONE = {"width": 390, "height": 844}


async def order_by_email(server: LiveServer, email: str) -> Order:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        order = (await session.scalars(sa.select(Order).where(Order.customer.has(email=email)))).unique().one()
        _ = [line.fulfillment_status for line in order.lines]
        return order


async def outbox_of(server: LiveServer, order_id: int) -> list[EmailOutbox]:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        return list(await session.scalars(sa.select(EmailOutbox).where(EmailOutbox.order_id == order_id)))


async def test_a_client_orders_on_a_phone_in_german_pays_and_sees_the_paid_order(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    context = await browser.new_context(base_url=live_server.base_url, viewport=PHONE, locale="de-DE", is_mobile=True)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await page.goto(f"/services/{SLUG}")
        await expect(page.get_by_role("heading", name="Jetzt bestellen")).to_be_visible()
        await page.get_by_label("Link zu Ihrem Profil oder Beitrag").fill("@lena.schmidt")
        await page.get_by_label("Menge").fill("1.000")
        await page.get_by_label("E-Mail für Bestätigung und Tracking-Link").fill("lena.walk@example.com")
        quote = page.locator("#quote")
        await expect(quote).to_contain_text("Gesamt")
        await expect(quote).to_contain_text("11,78")  # 9.90 net + 19 % VAT
        await expect(quote).to_contain_text("https://www.instagram.com/lena.schmidt/")
        await shot(page, "order-form")

        await page.get_by_role("button", name="Weiter zur Zahlung").click()
        await expect(page.get_by_text("Demo-Zahlung")).to_be_visible()
        await expect(page.locator("body")).to_contain_text("11,78")
        await shot(page, "fake-checkout")

        await page.get_by_role("button", name=re.compile(r"^Bezahlen")).click()
        await expect(page).to_have_url(re.compile(r"/track/"))
        await expect(page.locator(".status-line")).to_contain_text(re.compile("bezahlt", re.IGNORECASE))
        await expect(page.get_by_text("Danke, Ihre Zahlung ist eingegangen")).to_be_visible()
        await shot(page, "paid-order")
        assert errors == []
        tracking_path = page.url.removeprefix(live_server.base_url)
    finally:
        await context.close()

    order = await order_by_email(live_server, "lena.walk@example.com")
    assert (order.status, order.payment_status) == (OrderStatus.PAID, PaymentStatus.PAID)
    assert {line.fulfillment_status for line in order.lines} == {LineStatus.QUEUED}
    (confirmation,) = await outbox_of(live_server, order.id)
    assert confirmation.status == EmailStatus.QUEUED  # released by the payment; `serve` runs no worker to send it
    assert (confirmation.to_address, confirmation.locale) == ("lena.walk@example.com", "de")
    assert confirmation.context["tracking_url"] == f"{live_server.base_url}{tracking_path}?lang=de"


async def test_a_wrong_link_is_shown_at_the_field_and_the_typed_values_stay(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    context = await browser.new_context(base_url=live_server.base_url, viewport=PHONE, locale="de-DE")
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await page.goto(f"/services/{SLUG}")
        await page.get_by_label("Link zu Ihrem Profil oder Beitrag").fill("https://www.tiktok.com/@lena")
        await page.get_by_label("Menge").fill("1000")
        await page.get_by_label("E-Mail für Bestätigung und Tracking-Link").fill("wrong.link@example.com")
        await page.get_by_role("button", name="Weiter zur Zahlung").click()

        await expect(page.locator("#link-error")).to_contain_text("Instagram")
        await expect(page.get_by_label("E-Mail für Bestätigung und Tracking-Link")).to_have_value(
            "wrong.link@example.com"
        )
        await shot(page, "form-error")
    finally:
        await context.close()
