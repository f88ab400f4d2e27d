"""Prices are typed the way the staff member's language writes them: a German back office takes ``2,49``."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.catalog.models import Service
from app.db.session import engine_for, transaction
from tests.e2e.conftest import GERMAN_STAFF, LiveServer, login

pytestmark = pytest.mark.e2e

SLUG = "instagram-likes"


async def stored_price(server: LiveServer, slug: str) -> tuple[int, Decimal]:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        row = (await session.execute(sa.select(Service.id, Service.price).where(Service.slug == slug))).one()
        return row.id, row.price


async def test_a_price_typed_with_a_decimal_comma_in_a_german_session_is_stored_as_meant(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    context = await browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1400, "height": 900}, locale="de-DE"
    )
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        service_id, _before = await stored_price(live_server, SLUG)
        await login(page, live_server, GERMAN_STAFF, path=f"/admin/service/edit/{service_id}")
        price = page.locator("#price")
        await expect(price).to_have_attribute("type", "text")  # a number input would drop the comma
        await expect(price).to_have_value(re.compile(r"^\d+,\d\d$"))  # shown the German way
        await price.fill("2,49")
        await shot(page, "price-typed")
        await page.locator("input[type=submit][name=save]").first.click()
        await page.wait_for_url(re.compile(r"/admin/service/list"))

        assert (await stored_price(live_server, SLUG))[1] == Decimal("2.49")

        await page.goto(live_server.url(f"/services/{SLUG}"))
        await expect(page.locator(".price")).to_contain_text("2,49\u00a0€")
        await shot(page, "storefront-price")
    finally:
        await context.close()
