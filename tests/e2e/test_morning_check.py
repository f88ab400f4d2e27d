"""The morning check in German: the dashboard's failed count, exactly those lines, one opened, its reason read,
and the line retried with another provider's service."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.db.session import engine_for, transaction
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from tests.e2e.conftest import GERMAN_STAFF, LiveServer, login

pytestmark = pytest.mark.e2e


async def failed_lines(server: LiveServer) -> list[tuple[int, int | None]]:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        rows = await session.execute(
            sa.select(OrderLine.id, OrderLine.provider_service_id).where(
                OrderLine.fulfillment_status == LineStatus.FAILED
            )
        )
        return [(line_id, upstream_id) for line_id, upstream_id in rows]


async def second_provider_like(server: LiveServer, upstream_id: int) -> int:
    """Another active provider with a service of the failed line's type: the service's id."""
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        current = await session.get(ProviderService, upstream_id)
        assert current is not None
        provider = Provider(name="Ersatzanbieter", kind=ProviderKind.SMM_V2, api_url="http://127.0.0.1:9/api/v2")
        session.add(provider)
        await session.flush()
        other = ProviderService(
            provider_id=provider.id,
            external_id="E-1",
            name="Likes Ersatz",
            type=current.type,
            rate=current.rate,
            min_quantity=1,
            max_quantity=100000,
        )
        session.add(other)
        await session.flush()
        return other.id


async def provider_service_of(server: LiveServer, line_id: int) -> int | None:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        return await session.scalar(sa.select(OrderLine.provider_service_id).where(OrderLine.id == line_id))


async def test_a_failed_line_is_found_from_the_dashboard_and_retried_with_another_provider(
    browser: Any, live_server: LiveServer, shot: Any
) -> None:
    failed = await failed_lines(live_server)
    assert failed, "the demo data has no failed line"
    line_id, upstream_id = failed[0]
    assert upstream_id is not None
    replacement = await second_provider_like(live_server, upstream_id)
    context = await browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1280, "height": 720}, locale="de-DE"
    )
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await login(page, live_server, GERMAN_STAFF, path="/admin/dashboard")
        count = page.locator("[data-testid=attention-failed] [data-testid=count]")
        await expect(count).to_have_text(str(len(failed)))
        await expect(page.locator("[data-testid=attention]")).to_contain_text("Fehlgeschlagene Positionen")
        await shot(page, "dashboard")

        await page.locator("[data-testid=attention-failed]").click()
        await page.wait_for_url(re.compile(r"attention=failed"))
        rows = page.locator("table tbody tr")
        await expect(rows).to_have_count(len(failed))
        listed = {
            int(value) for value in await rows.locator("input[type=hidden]").evaluate_all("e => e.map(i => i.value)")
        }
        assert listed == {pk for pk, _upstream in failed}
        await shot(page, "failed-lines")

        row = rows.filter(has=page.locator(f"input[value='{line_id}']"))
        await row.get_by_role("link", name=re.compile(r"^SMP-")).click()
        await page.wait_for_url(re.compile(r"/admin/order/details/\d+$"))
        line = page.locator(f"tr[data-line-id='{line_id}']")
        reason = page.locator(f"tr[data-reason-for='{line_id}'] [data-testid=line-reason]")
        await expect(reason.locator("[data-testid=provider-error-kind]")).not_to_be_empty()
        await expect(reason.locator("[data-testid=provider-error-text]")).to_have_text("Incorrect service ID")
        await expect(line.locator("[data-testid=line-action-request-cancel]")).to_have_count(0)
        await shot(page, "order-with-reason")

        await line.locator("[data-testid=line-action-retry-dispatch]").click()
        await page.wait_for_url(re.compile(r"/action/retry-dispatch"))
        await expect(page.locator("[data-testid=action-preview]")).to_contain_text("Incorrect service ID")
        await page.select_option("#field-provider_service", value=str(replacement))
        await shot(page, "retry-with-another-provider")
        await page.locator("[data-testid=confirm-action]").click()
        await page.wait_for_url(re.compile(r"/admin/order/details/\d+$"))
        await expect(page.locator(".toast, .alert").first).to_contain_text("Wieder eingereiht")

        assert await provider_service_of(live_server, line_id) == replacement
        await page.goto(live_server.url("/admin/fulfillment"))
        await expect(page.locator("[data-testid=fulfillment-board]")).to_be_visible()
        await shot(page, "board")
    finally:
        await context.close()
