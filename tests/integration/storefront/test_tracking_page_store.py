"""The tracking page is kept per process once rendered (storefront/tracking_pages.py): asked again unchanged it
costs one statement, and every kind of change the page shows is on it at the next GET."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import Settings
from app.db.engine import session_factory
from app.fulfillment import commands as fulfillment
from app.fulfillment.models import RefillRequest, RefillStatus
from app.invoicing.storage import store_pdf
from app.orders.models import Order, OrderLine
from app.orders.states import LineStatus
from app.sandbox.instagram_graph import SandboxAccount
from app.uow import UnitOfWork, utc_now
from storefront import tracking_pages
from tests import factories
from tests.integration.instagram.graph import loopback_graph, run_job
from tests.integration.invoicing.helpers import invoices_of, pay

S = LineStatus
PROFILE = "https://www.instagram.com/lena.schmidt/"


async def tracked(session: AsyncSession, *path: LineStatus, remains: int | None = None) -> tuple[str, Order, int]:
    """A paid order (with its invoice) of 2,000 followers for an Instagram profile, within a 30-day refill window,
    its line walked along ``path``; returns the token, the order and the line's id."""
    await factories.company_settings(session)
    service = await factories.service(session, refill_days=30, expected_start_hours=2, speed_per_day=1000)
    placed = await factories.place_order(session, items=[(service, 2000, PROFILE)])
    assert placed.tracking_token is not None
    await pay(UnitOfWork(session), placed.order)
    line = await factories.move_line(session, placed.order.lines[0].id, *path, provider_order_id="up-1")
    line.provider_id = (await factories.provider(session)).id
    line.remains = remains
    line.start_count = 1000 if path else None
    await session.commit()
    return placed.tracking_token, placed.order, line.id


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    sa.event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(Engine, "before_cursor_execute", record)


async def page_of(client: AsyncTestClient[Litestar], token: str) -> str:
    response = await client.get(f"/track/{token}?lang=en")
    assert response.status_code == 200
    return response.text.replace("\xa0", " ")


async def warm(client: AsyncTestClient[Litestar], token: str) -> str:
    """The page asked twice, so that the second answer comes from the store."""
    await page_of(client, token)
    return await page_of(client, token)


async def test_a_page_asked_again_unchanged_is_answered_from_the_store_with_one_statement(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order, _line = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS, remains=1500)

    with statements() as rendering:
        once = await page_of(client, token)
    rendered = await client.get(f"/track/{token}?lang=en")  # the charted profile's snapshots join the stamp
    with statements() as again:
        stored = await client.get(f"/track/{token}?lang=en")
    zipped = await client.get(f"/track/{token}?lang=en", headers={"Accept-Encoding": "gzip"})

    assert len(rendering) > 5 and len(again) == 1
    assert stored.text == rendered.text == zipped.text and "500 of 2,000 delivered" in once.replace("\xa0", " ")
    assert zipped.headers["content-encoding"] == "gzip"
    for name in ("cache-control", "referrer-policy", "x-robots-tag", "content-security-policy", "content-type"):
        assert stored.headers.get(name) == rendered.headers.get(name) is not None, name


async def test_progress_reported_without_an_event_is_on_the_next_page(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order, line_id = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS, remains=1500)
    before = await warm(client, token)
    line = await session.get(OrderLine, line_id)
    assert line is not None
    line.remains = 500
    await session.commit()

    after = await page_of(client, token)

    assert "500 of 2,000 delivered" in before and "1,500 of 2,000 delivered" in after


async def test_a_line_finishing_is_on_the_next_page_with_its_timeline_entry(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order, line_id = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS, remains=1500)
    before = await warm(client, token)
    await factories.move_line(session, line_id, S.COMPLETED)
    await session.commit()

    after = await page_of(client, token)

    assert after.count("Delivered: ") == before.count("Delivered: ") + 1  # the timeline's entry
    assert "Completed" not in before and "Completed" in after


async def test_a_refund_is_on_the_next_page(client: AsyncTestClient[Litestar], session: AsyncSession):
    token, order, line_id = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS, remains=1500)
    before = await warm(client, token)
    line = await session.get(OrderLine, line_id)
    await factories.succeeded_refund(session, order, line, Decimal("1.25"))
    await session.commit()

    after = await page_of(client, token)

    assert "Refund of €1.25" not in before and "Refund of €1.25" in after


async def test_an_invoice_pdf_once_rendered_is_downloadable_from_the_next_page(
    client: AsyncTestClient[Litestar], engine: AsyncEngine, session: AsyncSession
):
    token, order, _line = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS, remains=1500)
    before = await warm(client, token)
    (invoice,) = await invoices_of(session, order.id)
    await store_pdf(session_factory(engine), invoice.id)

    after = await page_of(client, token)

    assert "being prepared" in before and "Download PDF" not in before
    assert f"/track/{token}/documents/{invoice.number}.pdf" in after


async def test_a_refill_requested_and_its_progress_are_each_on_the_next_page(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order, line_id = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.COMPLETED, remains=0)
    before = await warm(client, token)
    await fulfillment.request_refill(UnitOfWork(session), line_ids=[line_id], actor=factories.TEST_ACTOR)
    await session.commit()
    requested = await warm(client, token)
    refill = await session.scalar(sa.select(RefillRequest))
    assert refill is not None
    refill.status = RefillStatus.COMPLETED  # the refill's own row only: no event, no change of the line
    await session.commit()

    done = await page_of(client, token)

    assert "Request refill" in before and "Refill requested" not in before
    assert "Refill requested" in requested and "Request refill" not in requested
    assert "Refill done" in done and "Request refill" in done


async def test_a_new_follower_snapshot_is_on_the_next_page(
    client: AsyncTestClient[Litestar], engine: AsyncEngine, session: AsyncSession, settings: Settings
):
    token, _order, line_id = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS, remains=1500)
    line = await session.get(OrderLine, line_id)
    assert line is not None
    line.dispatched_at = utc_now() - timedelta(hours=2)
    await session.commit()
    before = await warm(client, token)
    with loopback_graph({"lena.schmidt": SandboxAccount(followers=1500, follows=300, media=40)}) as graph:
        await run_job(engine, graph, settings)

    after = await page_of(client, token)

    assert "<svg" not in before and "Followers of instagram.com/lena.schmidt" in after


async def test_changed_company_settings_are_on_the_next_page(client: AsyncTestClient[Litestar], session: AsyncSession):
    token, _order, _line = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.IN_PROGRESS, remains=1500)
    before = await warm(client, token)
    await factories.company_settings(session, email="orders@example.org")
    await session.commit()

    after = await page_of(client, token)

    assert "orders@example.org" not in before and "orders@example.org" in after


async def test_estimates_are_worded_again_as_time_passes(
    client: AsyncTestClient[Litestar], session: AsyncSession, monkeypatch: pytest.MonkeyPatch
):
    token, _order, _line = await tracked(session)
    before = await warm(client, token)
    later = utc_now() + timedelta(days=3)
    monkeypatch.setattr(tracking_pages, "utc_now", lambda: later)

    after = await page_of(client, token)

    assert "track-eta-late" not in before and "track-eta-late" in after


async def test_each_notice_and_language_is_a_page_of_its_own(client: AsyncTestClient[Litestar], session: AsyncSession):
    token, _order, _line = await tracked(session, S.DISPATCHING, S.DISPATCHED, S.COMPLETED, remains=0)
    plain = await warm(client, token)

    noticed = (await client.get(f"/track/{token}?lang=en&notice=refill-open")).text
    german = (await client.get(f"/track/{token}?lang=de")).text
    unknown = (await client.get(f"/track/{token}?lang=en&notice=whatever")).text.replace("\xa0", " ")

    assert "already under way" in noticed and "already under way" not in plain
    assert 'lang="de"' in german and "Bestellung" in german
    assert unknown == plain
