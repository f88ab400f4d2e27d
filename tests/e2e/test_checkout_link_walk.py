"""A client pays through a checkout link: the offer page, the (fake) Stripe checkout, back to their order page,
paid — and the same link opened again says plainly that it has been used.

The link is made with the domain command staff use (the admin form that calls it is walked in
``tests/integration/admin/test_checkout_links.py``); the rest goes through the browser and the signed webhook.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.accounts.models import Role, StaffUser
from app.actors import Actor
from app.catalog.models import Service
from app.db.session import engine_for, transaction
from app.orders.models import Order
from app.orders.placing import LineInput
from app.orders.states import LineStatus, OrderStatus, PaymentStatus
from app.payments.links import create_checkout_link
from app.uow import UnitOfWork
from tests import factories
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

SLUG = "instagram-follower-de"
CLIENT = "link.walk@example.com"


async def make_link(server: LiveServer) -> tuple[int, str]:
    """A one-use link for a new English-speaking client, made by the seeded staff user; (link id, token)."""
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        staff = await session.scalar(sa.select(StaffUser).where(StaffUser.email == server.users[Role.STAFF]))
        service_id = await session.scalar(sa.select(Service.id).where(Service.slug == SLUG))
        assert staff is not None and service_id is not None
        customer = await factories.customer(session, email=CLIENT, name="Link Walk", locale="en")
        created = await create_checkout_link(
            UnitOfWork(session),
            customer_id=customer.id,
            items=[LineInput(service_id, "@link.walk", 1000)],
            expires_at=datetime.now(UTC) + timedelta(days=7),
            actor=Actor.staff(staff.id, staff.email),
            note="agreed on the phone",
        )
        return created.link.id, created.token


async def orders_of_link(server: LiveServer, link_id: int) -> list[Order]:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        rows = await session.scalars(sa.select(Order).where(Order.checkout_link_id == link_id))
        found = list(rows.unique().all())
        _ = [line.fulfillment_status for order in found for line in order.lines]
        return found


async def test_a_client_pays_through_a_checkout_link_and_the_used_link_says_so(
    page: Any, live_server: LiveServer, shot: Any
) -> None:
    link_id, token = await make_link(live_server)

    await page.goto(f"/pay/{token}")
    await expect(page.get_by_role("heading", name="Your offer")).to_be_visible()
    await expect(page.get_by_test_id("pay-lines")).to_contain_text("https://www.instagram.com/link.walk/")
    await expect(page.get_by_test_id("pay-totals")).to_contain_text("11.78")  # 9.90 net + 19 % VAT
    await shot(page, "offer")

    await page.get_by_test_id("pay-button").click()
    await expect(page.get_by_text("Demo payment")).to_be_visible()
    await expect(page.locator("body")).to_contain_text("11.78")
    await shot(page, "fake-checkout")

    await page.get_by_role("button", name=re.compile(r"^Pay")).click()
    await expect(page).to_have_url(re.compile(r"/track/"))
    await expect(page.locator(".status-line")).to_contain_text(re.compile("paid", re.IGNORECASE))
    await expect(page.get_by_text("Thank you, your payment has arrived")).to_be_visible()
    await shot(page, "paid-order")

    await page.goto(f"/pay/{token}")
    unavailable = page.get_by_test_id("link-unavailable")
    await expect(unavailable).to_contain_text("This payment link cannot be used")
    await expect(unavailable).to_contain_text("already been used")
    await expect(page.get_by_test_id("pay-button")).to_have_count(0)
    await shot(page, "used-link")

    (order,) = await orders_of_link(live_server, link_id)
    assert (order.status, order.payment_status) == (OrderStatus.PAID, PaymentStatus.PAID)
    assert {line.fulfillment_status for line in order.lines} == {LineStatus.QUEUED}
