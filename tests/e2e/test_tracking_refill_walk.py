"""A German client on a phone: the order being delivered shows when it should finish; a delivered order lists its
invoice for download and offers a refill, which, once asked for, shows its status instead of the button."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.actors import Actor
from app.db.engine import session_factory
from app.db.session import engine_for, transaction
from app.demo.seed import GROWTH_SCENARIO
from app.invoicing.models import Invoice
from app.invoicing.storage import store_pdf
from app.orders.commands import renew_tracking_link
from app.orders.models import Order
from app.uow import UnitOfWork
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DELIVERED_WITH_REFILL = "seed:history-07"  # German followers (30-day refill), delivered about 11 days ago


async def tracking_path(server: LiveServer, scenario: str) -> str:
    """A fresh tracking link of the seeded order ``scenario``, its invoice's PDF rendered."""
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        order_id = await session.scalar(sa.select(Order.id).where(Order.idempotency_key == scenario))
        assert order_id is not None
        token = await renew_tracking_link(UnitOfWork(session), order_id=order_id, actor=Actor.system("e2e"))
        invoice_ids = (await session.scalars(sa.select(Invoice.id).where(Invoice.order_id == order_id))).all()
    async with engine_for(server.database_url) as engine:
        for invoice_id in invoice_ids:
            await store_pdf(session_factory(engine), invoice_id)
    return f"/track/{token}?lang=de"


async def german_phone(browser: Any, server: LiveServer, errors: list[str]) -> Any:
    context = await browser.new_context(base_url=server.base_url, viewport=PHONE, locale="de-DE", is_mobile=True)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page


async def test_a_german_client_sees_the_estimate_downloads_the_invoice_and_requests_a_refill(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    errors: list[str] = []
    page = await german_phone(browser, live_server, errors)
    try:
        await page.goto(await tracking_path(live_server, GROWTH_SCENARIO))
        await expect(page.locator('[data-line="1"] [data-eta]')).to_contain_text("Voraussichtlich")
        await shot(page, "in progress")

        await page.goto(await tracking_path(live_server, DELIVERED_WITH_REFILL))
        documents = page.locator("ul.documents")
        await expect(documents).to_contain_text("Rechnung RE-")
        async with page.expect_download() as download:
            await documents.get_by_role("link", name="PDF herunterladen").click()
        assert (await download.value).suggested_filename.startswith("RE-")
        await shot(page, "delivered")

        await page.get_by_role("button", name="Nachfüllung anfordern").click()
        await expect(page.locator(".notice-success")).to_contain_text("Ihre Nachfüllung ist angefragt")
        await expect(page.locator('[data-line="1"] [data-refill]')).to_contain_text("Nachfüllung angefragt")
        await expect(page.get_by_role("button", name="Nachfüllung anfordern")).to_have_count(0)
        await shot(page, "refill requested")
        assert errors == []
    finally:
        await page.context.close()
