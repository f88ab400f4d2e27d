"""The customer's admin page shows the client's Instagram metrics as the portal does, to every role that may
open it; with snapshots off it says nothing about them."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.asgi import create_app
from app.config import Settings
from app.customers.models import Customer
from tests.integration.admin.helpers import http_client, login_as
from tests.integration.instagram.graph import graph_on
from tests.integration.instagram.history import anna_history


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return graph_on(settings)


async def anna_id(session: AsyncSession) -> int:
    await anna_history(session)
    await session.commit()
    return (await session.scalars(sa.select(Customer.id).where(Customer.email == "anna@example.com"))).one()


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
async def test_staff_see_the_clients_instagram_metrics_on_the_customer_page(web, session: AsyncSession, role: Role):
    customer_id = await anna_id(session)
    await login_as(session, web, role)

    page = await web.get(f"/admin/customer/details/{customer_id}")

    assert page.status_code == 200
    assert 'data-testid="instagram-profiles"' in page.text and "As the client sees them" in page.text
    assert page.text.count('data-testid="ig-profile"') == 3
    cafe = page.text[page.text.index('data-handle="anna.cafe"') :]
    assert cafe.count("<svg") == 3 and cafe.count('class="chart-start"') == 6
    assert 'data-testid="growth-7">+300' in cafe and 'data-testid="growth-90">+1,000' in cafe
    private = page.text[page.text.index('data-handle="anna.private"') : page.text.index('data-handle="anna.shop"')]
    assert "Provider counts" in private


async def test_the_customer_page_says_nothing_about_instagram_when_snapshots_are_off(
    session: AsyncSession, settings: Settings
):
    customer_id = await anna_id(session)
    async with http_client(create_app(replace(settings, instagram_source="off"))) as client:
        await login_as(session, client, Role.ADMIN)
        page = await client.get(f"/admin/customer/details/{customer_id}")

    assert page.status_code == 200 and "anna.cafe" not in page.text and "Instagram metrics" not in page.text
