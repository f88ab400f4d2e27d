"""The back office's daily tasks, walked in German and English at 1280 by 720, asserting what a person sees.

Each walk seeds its own lines at a provider of its own (factories on top of the module's server data):

- the morning check: the dashboard's attention counts are the board's, and a count's link lists exactly its lines;
- deciding on held lines from the board: a held line offers only what its state allows, two lines ticked and
  resumed at once with their hold reason on the confirmation page; the toast leaves the filter panel free;
- finance: last month's orders by paid date, with the totals row.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from admin.listing import berlin_day_start, preset_range
from app.accounts.commands import create_staff_user
from app.accounts.models import Role
from app.config import Settings, use_settings
from app.db.session import engine_for, transaction
from app.fulfillment.attention import Attention
from app.i18n import BERLIN
from app.orders import commands
from app.orders.models import Order, OrderLine
from app.orders.states import LineStatus
from app.uow import UnitOfWork
from tests import factories
from tests.e2e.conftest import GERMAN_STAFF, PASSWORD, SECRET_KEY, LiveServer, login, sized_page

pytestmark = pytest.mark.e2e

LANGUAGES = ["de", "en"]
LINKS = count(1)
HOLD_REASON = "client is on holiday until Monday"
TEXTS = {
    "de": {"resumed": "Fortgesetzt", "canceled": "Storniert", "resume": "Fortsetzen", "totals": "Gesamt"},
    "en": {"resumed": "Resumed", "canceled": "Canceled", "resume": "Resume", "totals": "Total"},
}
# A held line offers resume and cancel; these never.
NOT_FOR_HELD = ("hold-line", "retry-dispatch", "resolve-dispatch", "check-status", "request-cancel", "request-refill")


@dataclass(frozen=True)
class Seeded:
    provider_id: int
    held: list[int]
    failed: int


@asynccontextmanager
async def seeding(server: LiveServer) -> AsyncIterator[AsyncSession]:
    """A committed transaction on the server's database, encrypting with the server's key."""
    previous = use_settings(Settings(env="test", database_url=server.database_url, secret_key=SECRET_KEY))
    try:
        async with engine_for(server.database_url) as engine, transaction(engine) as session:
            yield session
    finally:
        use_settings(previous)


async def waiting_lines(server: LiveServer, language: str) -> Seeded:
    """Two held lines (with a reason) and one failed line at a provider of their own."""
    async with seeding(server) as session:
        provider = await factories.provider(session)
        upstream = await factories.provider_service(session, provider)
        service = await factories.service(session, upstream=upstream)
        lines = []
        for _ in range(3):
            link = f"https://www.instagram.com/p/walk{language}{next(LINKS)}/"
            order = await factories.paid_order(session, items=[(service, 1000, link)])
            lines.append(order.lines[0])
        held = [lines[0].id, lines[1].id]
        await commands.hold_lines(UnitOfWork(session), line_ids=held, actor=factories.TEST_ACTOR, reason=HOLD_REASON)
        await factories.move_line(session, lines[2].id, LineStatus.DISPATCHING, LineStatus.FAILED)
        return Seeded(provider.id, held, lines[2].id)


async def line_ids_in(server: LiveServer, status: LineStatus) -> set[int]:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        return set((await session.scalars(sa.select(OrderLine.id).where(OrderLine.fulfillment_status == status))).all())


async def statuses(server: LiveServer, line_ids: list[int]) -> list[LineStatus]:
    async with engine_for(server.database_url) as engine, transaction(engine) as session:
        rows = dict((await session.execute(sa.select(OrderLine.id, OrderLine.fulfillment_status))).tuples().all())
    return [LineStatus(rows[line_id]) for line_id in line_ids]


def staff_of(server: LiveServer, language: str) -> str:
    return GERMAN_STAFF if language == "de" else server.users[Role.STAFF]


async def listed_ids(page: Any) -> set[int]:
    boxes = page.locator("table tbody tr input[type=hidden]")
    return {int(value) for value in await boxes.evaluate_all("e => e.map(i => i.value)")}


def overlaps(first: dict[str, float], second: dict[str, float]) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_morning_counts_are_the_boards_and_each_leads_to_exactly_its_lines(
    browser: Any, live_server: LiveServer, shot: Any, language: str
) -> None:
    await waiting_lines(live_server, language)
    async with sized_page(browser, live_server, language) as page:
        await login(page, live_server, staff_of(live_server, language), path="/admin/dashboard")
        counts = {
            kind: await page.locator(f"[data-testid=attention-{kind}] [data-testid=count]").inner_text()
            for kind in (Attention.FAILED, Attention.ON_HOLD, Attention.NEEDS_REVIEW)
        }
        await shot(page, "dashboard")

        await page.goto(live_server.url("/admin/fulfillment"))
        for kind, count in counts.items():
            await expect(page.locator(f"[data-testid=count-{kind}]")).to_have_text(count)
        await shot(page, "board")

        for kind, status in ((Attention.ON_HOLD, LineStatus.ON_HOLD), (Attention.FAILED, LineStatus.FAILED)):
            await page.goto(live_server.url("/admin/dashboard"))
            await page.locator(f"[data-testid=attention-{kind}]").click()
            await page.wait_for_url(re.compile(rf"attention={kind}"))
            expected = await line_ids_in(live_server, status)
            await expect(page.locator("table tbody tr")).to_have_count(len(expected))
            assert await listed_ids(page) == expected
            assert str(len(expected)) == counts[kind]
            await shot(page, f"{kind}-lines")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_held_lines_are_resumed_together_from_the_board_with_their_reason_in_view(
    browser: Any, live_server: LiveServer, shot: Any, language: str
) -> None:
    seeded = await waiting_lines(live_server, language)
    texts = TEXTS[language]
    async with sized_page(browser, live_server, language) as page:
        await login(page, live_server, staff_of(live_server, language), path="/admin/fulfillment")
        await page.locator(f"[data-testid=board-provider-{seeded.provider_id}]").click()
        await page.wait_for_url(re.compile(rf"provider={seeded.provider_id}"))
        held = page.locator("[data-queue=on_hold]")
        await expect(held.locator("[data-testid=count-on_hold]")).to_have_text("2")
        await expect(page.locator("[data-queue=failed] [data-testid=count-failed]")).to_have_text("1")
        card = held.locator(".list-group-item").filter(has=page.locator(f"[data-testid=pick-{seeded.held[0]}]"))
        await expect(card.locator("[data-testid=line-reason]")).to_contain_text(HOLD_REASON)
        await expect(card.locator("[data-testid=line-action-resume-line]")).to_be_visible()
        await expect(card.locator("[data-testid=line-action-cancel-line]")).to_be_visible()
        for slug in NOT_FOR_HELD:
            await expect(card.locator(f"[data-testid^=line-action-{slug}]")).to_have_count(0)
        await shot(page, "board-of-one-provider")

        for line_id in seeded.held:
            await page.locator(f"[data-testid=pick-{line_id}]").check()
        await held.locator("[data-testid=bulk-on_hold-resume-line]").click()
        await page.wait_for_url(re.compile(r"/action/resume-line\?"))
        preview = page.locator("[data-testid=action-preview]")
        await expect(preview).to_contain_text(HOLD_REASON)
        await expect(preview.locator("[data-testid=preview-item]")).to_have_count(2)
        await shot(page, "confirm-resume-with-reasons")
        await page.locator("[data-testid=confirm-action]").click()
        await page.wait_for_url(re.compile(rf"/admin/fulfillment\?provider={seeded.provider_id}$"))
        await expect(page.locator(".toast").first).to_contain_text(texts["resumed"])
        await expect(held.locator("[data-testid=count-on_hold]")).to_have_text("0")
        assert await statuses(live_server, seeded.held) == [LineStatus.QUEUED, LineStatus.QUEUED]

        # A decision taken from a filtered list comes back to it: the toast leaves the filter panel free.
        back = f"/admin/order-line/list?attention=failed&provider={seeded.provider_id}"
        await page.goto(live_server.url(f"/admin/order-line/action/cancel-line?pks={seeded.failed}&next={quote(back)}"))
        await page.fill("#field-reason", "client withdrew")
        await page.locator("[data-testid=confirm-action]").click()
        await page.wait_for_url(re.compile(r"/admin/order-line/list\?attention=failed"))
        toast = page.locator(".toast").first
        await expect(toast).to_contain_text(texts["canceled"])
        filters = page.locator("#filter-sidebar")
        await expect(filters).to_be_visible()
        assert not overlaps(await toast.bounding_box(), await filters.bounding_box())
        await shot(page, "toast-beside-the-filters")
        assert await statuses(live_server, [seeded.failed]) == [LineStatus.CANCELED]


async def finance_user(server: LiveServer, language: str) -> str:
    """A finance user speaking ``language`` (the seeded one speaks English)."""
    if language == "en":
        return server.users[Role.FINANCE]
    email = "buchhaltung@e2e.example"
    async with seeding(server) as session:
        known = await session.scalar(sa.text("select 1 from staff_user where email = :email"), {"email": email})
        if not known:
            await create_staff_user(
                UnitOfWork(session),
                email=email,
                password=PASSWORD,
                role=Role.FINANCE,
                name="E2E Buchhaltung",
                locale="de",
                actor=factories.TEST_ACTOR,
            )
    return email


async def paid_last_month(server: LiveServer) -> set[str]:
    """Two orders moved into last month by their paid date; every order paid last month (Berlin dates)."""
    first, last = preset_range("last_month", datetime.now(BERLIN).date())
    assert first is not None and last is not None
    start, end = berlin_day_start(first), berlin_day_start(last + timedelta(days=1))
    async with seeding(server) as session:
        for paid_at in (start + timedelta(hours=9), end - timedelta(hours=9)):
            order = await factories.paid_order(session)
            await session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=paid_at))
        rows = await session.scalars(sa.select(Order.number).where(Order.paid_at >= start, Order.paid_at < end))
        return set(rows.all())


@pytest.mark.parametrize("language", LANGUAGES)
async def test_finance_lists_last_months_orders_by_paid_date_with_their_totals(
    browser: Any, live_server: LiveServer, shot: Any, language: str
) -> None:
    expected = await paid_last_month(live_server)
    user = await finance_user(live_server, language)
    async with sized_page(browser, live_server, language) as page:
        await login(page, live_server, user, path="/admin/order/list")
        await page.locator("#filters-toggle").click()
        paid_filter = page.locator("#filter-sidebar [data-date-range=paid_at]").locator("..")
        await paid_filter.locator("a[href*='paid_at=last_month']").click()
        await page.wait_for_url(re.compile(r"paid_at=last_month"))
        rows = page.locator("table tbody tr")
        await expect(rows).to_have_count(len(expected))
        shown = set(await rows.get_by_role("link", name=re.compile(r"^SMP-")).all_inner_texts())
        assert shown == expected
        totals = page.locator("[data-testid=list-totals]").first
        await expect(totals).to_be_visible()
        await expect(totals).to_contain_text(TEXTS[language]["totals"])
        await expect(totals).to_contain_text(str(len(expected)))
        await shot(page, "last-month-by-paid-date")
