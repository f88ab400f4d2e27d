"""Where is my order? In German and English at 1280 by 720: "/" focuses the search from the dashboard, the client's
email finds their orders, the order shows its fulfilment, each line's estimate and the status to copy for the
client."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.accounts.models import Role
from app.customers.models import Customer
from app.db.session import engine_for, transaction
from app.orders.models import Order, OrderLine
from app.orders.states import LineStatus
from tests.e2e.conftest import GERMAN_STAFF, LiveServer, login, sized_page

pytestmark = pytest.mark.e2e

# What a staff member of each language reads; the client's language is the staff member's here.
TEXTS = {
    "de": {
        "delivered": "Geliefert",
        "of": " von ",
        "eta": "Voraussichtlich",
        "status": r"^Stand Ihrer Bestellung SMP-\d{4}-\d{6,}:\n1\. ",
    },
    "en": {
        "delivered": "Delivered",
        "of": " of ",
        "eta": "Expected to finish",
        "status": r"^Status of your order SMP-\d{4}-\d{6,}:\n1\. ",
    },
}


async def client_with_a_running_order(server: LiveServer, language: str) -> tuple[str, int, set[str]]:
    """A client speaking ``language``: their email, their order with a line in progress, all their order numbers."""
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        order_id, customer_id, email = (
            await session.execute(
                sa.select(Order.id, Customer.id, Customer.email)
                .join(Customer, Customer.id == Order.customer_id)
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(OrderLine.fulfillment_status == LineStatus.IN_PROGRESS)
                .order_by(Order.id)
                .limit(1)
            )
        ).one()
        await session.execute(sa.update(Customer).where(Customer.id == customer_id).values(locale=language))
        numbers = set((await session.scalars(sa.select(Order.number).where(Order.customer_id == customer_id))).all())
    return email, order_id, numbers


@pytest.mark.parametrize("language", ["de", "en"])
async def test_a_client_asking_where_their_order_is_gets_its_status_in_a_few_steps(
    browser: Any, live_server: LiveServer, shot: Any, language: str
) -> None:
    texts = TEXTS[language]
    email, order_id, numbers = await client_with_a_running_order(live_server, language)
    async with sized_page(browser, live_server, language) as page:
        staff = GERMAN_STAFF if language == "de" else live_server.users[Role.STAFF]
        await login(page, live_server, staff, path="/admin/dashboard")
        await page.keyboard.press("/")
        search = page.locator("#global-search")
        await expect(search).to_be_focused()
        await search.fill(email)
        await shot(page, "search-from-the-dashboard")
        await search.press("Enter")

        await page.wait_for_url(re.compile(r"/admin/order/list\?search="))
        rows = page.locator("table tbody tr")
        await expect(rows).to_have_count(len(numbers))
        shown = set(await rows.get_by_role("link", name=re.compile(r"^SMP-")).all_inner_texts())
        assert shown == numbers
        filters = page.locator("#filter-sidebar")
        await expect(filters).to_be_hidden()  # folded: the list has the width
        await page.locator("#filters-toggle").click()
        await expect(filters).to_be_visible()
        await shot(page, "the-clients-orders")
        await page.locator("#filters-toggle").click()

        row = rows.filter(has=page.locator(f"input[value='{order_id}']"))
        await row.get_by_role("link", name=re.compile(r"^SMP-")).click()
        await page.wait_for_url(re.compile(rf"/admin/order/details/{order_id}$"))
        summary = page.locator("[data-testid=fulfilment-summary]")
        await expect(summary).to_contain_text(texts["delivered"])
        await expect(summary.locator("[data-testid=delivered-of-ordered]")).to_contain_text(texts["of"])
        await expect(page.locator("[data-testid=line-eta]").first).to_contain_text(texts["eta"])
        status = page.locator("[data-testid=client-status]")
        await expect(status).to_have_value(re.compile(texts["status"]))
        await page.locator("[data-testid=copy-client-status]").click()
        await expect(status).to_be_focused()
        await shot(page, "order-status-for-the-client")
