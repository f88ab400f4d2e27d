"""On the tracking page: each open line's estimated start and finish (page and JSON), and the client's refill
button, which calls the staff's refill command as the customer, only inside the refill window, once at a time."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import ActorKind
from app.audit.models import AuditLog
from app.fulfillment.models import RefillRequest, RefillStatus
from app.orders.commands import mark_paid
from app.orders.models import Order, OrderLine
from app.orders.states import LineStatus
from app.uow import UnitOfWork, utc_now
from tests import factories

S = LineStatus
JSON = {"Accept": "application/json"}


async def tracked(session: AsyncSession, *path: LineStatus, refill_days: int = 30) -> tuple[str, Order]:
    """A paid order of 2,000 units of a service starting within 2 h at 1,000 a day, its line walked along ``path``
    at a provider."""
    service = await factories.service(session, refill_days=refill_days, expected_start_hours=2, speed_per_day=1000)
    provider = await factories.provider(session)
    placed = await factories.place_order(session, items=[(service, 2000, "https://www.instagram.com/p/C0ffee77/")])
    assert placed.tracking_token is not None
    await mark_paid(UnitOfWork(session), order_id=placed.order.id, actor=factories.TEST_ACTOR)
    line = placed.order.lines[0]
    await session.execute(sa.update(OrderLine).where(OrderLine.id == line.id).values(provider_id=provider.id))
    await factories.move_line(session, line.id, *path, provider_order_id="up-77")
    await session.commit()
    return placed.tracking_token, placed.order


DELIVERED = (S.DISPATCHING, S.DISPATCHED, S.COMPLETED)


def plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def in_language(redirect: httpx.Response, lang: str) -> str:
    """Where ``redirect`` sends the browser (without its #fragment), in ``lang``."""
    return redirect.headers["location"].partition("#")[0] + f"&lang={lang}"


def eta_of(page: str) -> str:
    found = re.search(r"<p class=\"track-eta[^\"]*\" data-eta[^>]*>(.*?)</p>", page)
    assert found, page
    return plain(re.sub(r"<[^>]+>", " ", found.group(1))).strip()


async def test_a_queued_line_shows_when_it_starts_and_finishes_in_english_and_german(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order = await tracked(session)

    en = (await client.get(f"/track/{token}?lang=en")).text
    de = (await client.get(f"/track/{token}?lang=de")).text
    body = (await client.get(f"/track/{token}?lang=en", headers=JSON)).json()

    assert eta_of(en).startswith("Starts within 2 h (by ") and "Expected to finish around " in eta_of(en)
    assert eta_of(de).startswith("Start innerhalb von 2 Std. (bis ") and "Voraussichtlich fertig um den " in eta_of(de)
    eta = body["lines"][0]["eta"]
    assert eta["start_within_hours"] == 2 and eta["late"] is False
    assert eta["starts_by"] is not None and eta["finishes_around"] > eta["starts_by"]
    assert [plain(text) for text in eta["texts"]] == eta_of(en).split("  ")


async def test_a_delivered_line_has_no_estimate(client: AsyncTestClient[Litestar], session: AsyncSession):
    token, _order = await tracked(session, *DELIVERED)

    page = (await client.get(f"/track/{token}?lang=en")).text
    body = (await client.get(f"/track/{token}", headers=JSON)).json()

    assert eta_of(page) == "" and body["lines"][0]["eta"] is None


async def test_inside_the_window_the_client_requests_a_refill_through_the_staff_command(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, order = await tracked(session, *DELIVERED)

    before = (await client.get(f"/track/{token}?lang=en")).text
    sent = await client.post(f"/track/{token}/lines/1/refill", follow_redirects=False)
    after = await client.get(in_language(sent, "en"))

    assert "Request refill" in before and "possible until" in before
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"/track/{token}?notice=refill-requested")
    assert "your refill is requested" in after.text
    assert "Refill requested — we pass it on to delivery" in after.text and "Request refill" not in after.text
    refill = await session.scalar(sa.select(RefillRequest))
    assert refill is not None and refill.order_line_id == order.lines[0].id
    assert refill.status == RefillStatus.REQUESTED and refill.requested_by == order.customer.email
    audit = await session.scalar(sa.select(AuditLog).where(AuditLog.action == "request-refill"))
    assert audit is not None and audit.actor_kind == ActorKind.CUSTOMER


async def test_a_second_request_while_one_is_open_is_a_clear_message_not_a_second_refill(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order = await tracked(session, *DELIVERED)
    await client.post(f"/track/{token}/lines/1/refill", follow_redirects=False)

    again = await client.post(f"/track/{token}/lines/1/refill", follow_redirects=False)
    page = await client.get(in_language(again, "de"))

    assert again.status_code == 303 and "notice=refill-open" in again.headers["location"]
    assert page.status_code == 200 and "läuft bereits eine Nachfüllung" in page.text
    assert await session.scalar(sa.select(sa.func.count()).select_from(RefillRequest)) == 1


async def test_outside_the_window_there_is_no_button_and_a_post_is_refused_politely(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, order = await tracked(session, *DELIVERED)
    ended = utc_now() - timedelta(days=31)
    await session.execute(sa.update(OrderLine).where(OrderLine.id == order.lines[0].id).values(finished_at=ended))
    await session.commit()

    page = (await client.get(f"/track/{token}?lang=en")).text
    refused = await client.post(f"/track/{token}/lines/1/refill", follow_redirects=False)
    shown = await client.get(in_language(refused, "en"))

    assert "Request refill" not in page
    assert refused.status_code == 303 and "notice=refill-unavailable" in refused.headers["location"]
    assert "A refill is not available for this line" in shown.text
    assert await session.scalar(sa.select(sa.func.count()).select_from(RefillRequest)) == 0


@pytest.mark.parametrize(
    ("path", "refill_days"),
    [pytest.param((S.DISPATCHING, S.DISPATCHED), 30, id="running"), pytest.param(DELIVERED, 0, id="no-guarantee")],
)
async def test_no_refill_button_before_delivery_or_without_a_guarantee(
    client: AsyncTestClient[Litestar], session: AsyncSession, path: tuple[LineStatus, ...], refill_days: int
):
    token, _order = await tracked(session, *path, refill_days=refill_days)

    page = (await client.get(f"/track/{token}?lang=en")).text

    assert "Request refill" not in page and "/lines/1/refill" not in page


@pytest.mark.parametrize(
    ("status", "english", "button"),
    [
        (RefillStatus.SENT, "Refill on its way", False),
        (RefillStatus.IN_PROGRESS, "Refill on its way", False),
        (RefillStatus.COMPLETED, "Refill done", True),
        (RefillStatus.REJECTED, "Refill not possible this time", True),
        (RefillStatus.FAILED, "Refill not possible this time", True),
    ],
)
async def test_the_refills_status_follows_the_provider_in_plain_words(
    client: AsyncTestClient[Litestar], session: AsyncSession, status: RefillStatus, english: str, button: bool
):
    token, _order = await tracked(session, *DELIVERED)
    await client.post(f"/track/{token}/lines/1/refill", follow_redirects=False)
    await session.execute(sa.update(RefillRequest).values(status=status))
    await session.commit()

    page = (await client.get(f"/track/{token}?lang=en")).text
    body = (await client.get(f"/track/{token}?lang=en", headers=JSON)).json()

    assert english in page and ("Request refill" in page) == button
    assert body["lines"][0]["refill"]["label"].startswith(english)
    assert (body["lines"][0]["refill"]["open_until"] is not None) == button


async def test_a_refill_from_another_site_is_refused_and_an_unknown_line_is_not_found(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order = await tracked(session, *DELIVERED)

    forged = await client.post(
        f"/track/{token}/lines/1/refill", headers={"Origin": "https://evil.example"}, follow_redirects=False
    )
    unknown = await client.post(f"/track/{token}/lines/9/refill", follow_redirects=False)

    assert forged.status_code == 403 and unknown.status_code == 404
    assert await session.scalar(sa.select(sa.func.count()).select_from(RefillRequest)) == 0
