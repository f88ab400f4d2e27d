"""The client's tracking page over HTTP: every line state in plain words (de and en), the timeline, the JSON
view, the headers that keep the link private, and the same 404 for any token that is not a tracking link."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.orders import commands
from app.orders.models import Order, OrderLine
from app.orders.states import LineStatus
from app.uow import UnitOfWork
from tests import factories

S = LineStatus
STARTED = (S.DISPATCHING, S.DISPATCHED)

# line path (from queued), remains, refund → English and German wording
STATES = [
    pytest.param(None, None, None, "Waiting for payment", "Warten auf Zahlung", id="awaiting_payment"),
    pytest.param((), None, None, "Queued", "In der Warteschlange", id="queued"),
    pytest.param((S.DISPATCHING,), None, None, "Queued", "In der Warteschlange", id="dispatching"),
    pytest.param(STARTED, None, None, "Started", "Gestartet", id="dispatched"),
    pytest.param(
        (*STARTED, S.IN_PROGRESS),
        750,
        None,
        "In progress — 1,250 of 2,000 delivered",
        "In Arbeit — 1.250 von 2.000 geliefert",
        id="in_progress",
    ),
    pytest.param((*STARTED, S.COMPLETED), 0, None, "Completed", "Abgeschlossen", id="completed"),
    pytest.param(
        (*STARTED, S.PARTIAL),
        500,
        "1.49",
        "Partially delivered — refund of €1.49",
        "Teilweise geliefert — Erstattung von 1,49 €",
        id="partial",
    ),
    pytest.param(
        (*STARTED, S.CANCELED), 2000, "5.95", "Canceled — €5.95 refunded", "Storniert — 5,95 € erstattet", id="canceled"
    ),
    pytest.param((S.ON_HOLD,), None, None, "We are on it", "Wir kümmern uns darum", id="on_hold"),
    pytest.param((S.DISPATCHING, S.DISPATCH_UNKNOWN), None, None, "We are on it", "Wir kümmern uns", id="unknown"),
    pytest.param(
        (S.DISPATCHING, S.DISPATCH_UNKNOWN, S.NEEDS_REVIEW), None, None, "We are on it", "Wir kümmern", id="review"
    ),
    pytest.param((S.DISPATCHING, S.FAILED), None, None, "We are on it", "Wir kümmern uns", id="failed"),
]
INTERNAL_WORDS = ("on hold", "review", "unknown", "failed", "provider", "angehalten", "Prüfung")


async def tracked_order(
    session: AsyncSession, path: tuple[LineStatus, ...] | None, remains: int | None, refund: str | None
) -> tuple[str, Order]:
    """An order of 2,000 units (2.50 per 1000 + 19 % VAT) with its line walked along ``path`` (None: unpaid)."""
    made = await factories.service(session, price="2.5000")
    await factories.company_settings(session)
    placed = await factories.place_order(session, items=[(made, 2000, "https://www.instagram.com/p/C0ffee123/")])
    assert placed.tracking_token is not None
    order = placed.order
    if path is not None:
        order = await commands.mark_paid(UnitOfWork(session), order_id=order.id, actor=factories.TEST_ACTOR)
        line = await factories.move_line(session, order.lines[0].id, *path, provider_order_id="up-1")
        if remains is not None:
            line.remains = remains
    if refund is not None:
        await factories.succeeded_refund(session, order, order.lines[0], Decimal(refund))
    await session.commit()
    return placed.tracking_token, order


def plain(text: str) -> str:
    """``text`` with the no-break spaces that number and money formats use as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def badge(html: str) -> str:
    found = re.search(r"data-label>([^<]*)<", html)
    assert found, html
    return plain(found.group(1))


@pytest.mark.parametrize(("path", "remains", "refund", "english", "german"), STATES)
async def test_each_line_state_reads_in_plain_words_in_english_and_german(
    client: AsyncTestClient[Litestar],
    session: AsyncSession,
    path: tuple[LineStatus, ...] | None,
    remains: int | None,
    refund: str | None,
    english: str,
    german: str,
):
    token, _order = await tracked_order(session, path, remains, refund)

    en = await client.get(f"/track/{token}?lang=en")
    de = await client.get(f"/track/{token}?lang=de")

    assert en.status_code == de.status_code == 200
    assert badge(en.text).startswith(english)
    assert badge(de.text).startswith(german)
    for word in INTERNAL_WORDS:
        assert word not in badge(en.text) and word not in badge(de.text)


async def test_the_bar_and_numbers_show_what_was_delivered_of_what_was_ordered(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order = await tracked_order(session, (*STARTED, S.IN_PROGRESS), 750, None)
    await session.execute(sa.update(OrderLine).values(start_count=4321))
    await session.commit()

    page = (await client.get(f"/track/{token}?lang=en")).text

    assert 'aria-valuenow="62"' in page and "width: 62%" in page
    assert "Delivered: <strong data-delivered>1,250</strong>" in page
    assert "Start count: <strong>4,321</strong>" in page
    assert "instagram.com/p/C0ffee123" in page and "https://www.instagram.com/p/C0ffee123/" in page
    assert 'src="/static/tracking.js"' in page  # still delivering: the page keeps itself up to date


async def test_a_finished_order_page_does_not_poll(client: AsyncTestClient[Litestar], session: AsyncSession):
    token, _order = await tracked_order(session, (*STARTED, S.COMPLETED), 0, None)

    page = (await client.get(f"/track/{token}")).text

    assert "tracking.js" not in page and "data-poll" not in page


async def test_the_timeline_shows_payment_start_delivery_and_refunds_but_never_notes(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, order = await tracked_order(session, (*STARTED, S.PARTIAL), 500, "1.49")
    await commands.add_note(
        UnitOfWork(session), order_ids=[order.id], note="customer is a reseller, check", actor=factories.TEST_ACTOR
    )
    await session.commit()

    en = plain((await client.get(f"/track/{token}?lang=en")).text)
    de = plain((await client.get(f"/track/{token}?lang=de")).text)

    timeline = en[en.index('class="timeline"') :]
    for moment in ("Order placed", "Payment received", "Started: Service", "Partly delivered: Service"):
        assert moment in timeline
    assert "Refund of €1.49" in timeline and "Refunded" in en
    assert "reseller" not in en and "dispatching" not in timeline
    assert "Zahlung eingegangen" in de and "Erstattung von 1,49 €" in de


async def test_the_json_view_has_the_numbers_statuses_refunds_and_totals(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, order = await tracked_order(session, (*STARTED, S.PARTIAL), 500, "1.49")

    response = await client.get(f"/track/{token}", headers={"Accept": "application/json", "Accept-Language": "de"})

    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["number"] == order.number and body["status"] == order.status.value
    assert body["payment_status"] == "paid" and body["live"] is False
    (line,) = body["lines"]
    assert {k: line[k] for k in ("position", "quantity", "delivered", "remains", "percent", "status", "refunded")} == {
        "position": 1,
        "quantity": 2000,
        "delivered": 1500,
        "remains": 500,
        "percent": 75,
        "status": "partial",
        "refunded": "1.49",
    }
    assert plain(line["label"]) == "Teilweise geliefert — Erstattung von 1,49 €"
    assert [(r["amount"], r["currency"], r["line"]) for r in body["refunds"]] == [("1.49", "EUR", 1)]
    assert body["totals"] == {"net": "5.00", "tax": "0.95", "gross": "5.95", "refunded": "1.49", "currency": "EUR"}
    assert response.headers["x-robots-tag"].startswith("noindex")
    assert response.headers["referrer-policy"] == "same-origin"


async def test_the_page_is_private_not_indexed_and_uses_no_third_party_assets(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, _order = await tracked_order(session, (*STARTED, S.IN_PROGRESS), 750, None)

    response = await client.get(f"/track/{token}")

    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-robots-tag"].startswith("noindex")
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.text
    assert re.findall(r'(?:src|href)="(?:https?:)?//', response.text) == []
    assert "<script>" not in response.text and re.search(r"<[^>]+\son[a-z]+=", response.text) is None


GARBAGE = [
    "nope",
    "A" * 43,
    "x" * 5000,
    "%C3%BC%C3%B6%E2%82%AC%F0%9F%92%A5",
    "..%5C..%5Cetc",
    "%E2%80%AE%20tab%09",
    "'; DROP TABLE orders; --",
]


@pytest.mark.parametrize("token", GARBAGE)
async def test_any_unknown_token_gets_the_same_friendly_404_page_and_json(
    client: AsyncTestClient[Litestar], session: AsyncSession, token: str
):
    await tracked_order(session, (), None, None)  # a real order exists; guessing does not find it

    page = await client.get(f"/track/{token}", headers={"Accept": "text/html"})
    data = await client.get(f"/track/{token}", headers={"Accept": "application/json"})

    assert page.status_code == data.status_code == 404
    assert "This order link is not valid" in page.text or "Dieser Bestell-Link ist ungültig" in page.text
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    assert data.json()["status"] == 404 and set(data.json()) == {"type", "title", "status", "detail"}
    for response in (page, data):
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-robots-tag"].startswith("noindex")
        assert response.headers["cache-control"] == "no-store"


async def test_a_path_that_cannot_hold_a_token_is_refused_without_an_error(client: AsyncTestClient[Litestar]):
    for path in ("/track/..%2F..%2Fetc%2Fpasswd", "/track/a/b/c", "/track/%2F", "/track/%00%01%FF"):
        assert (await client.get(path)).status_code in (400, 404, 405)


async def test_repeat_polls_get_not_modified_until_the_provider_reports_progress(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, order = await tracked_order(session, (*STARTED, S.IN_PROGRESS), 750, None)
    json = {"Accept": "application/json"}

    first = await client.get(f"/track/{token}?lang=en", headers=json)
    again = await client.get(f"/track/{token}?lang=en", headers={**json, "If-None-Match": first.headers["etag"]})
    await session.execute(sa.update(OrderLine).where(OrderLine.order_id == order.id).values(remains=300))
    await session.commit()
    moved = await client.get(f"/track/{token}?lang=en", headers={**json, "If-None-Match": first.headers["etag"]})
    german = await client.get(f"/track/{token}?lang=de", headers={**json, "If-None-Match": moved.headers["etag"]})

    assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    assert again.headers["referrer-policy"] == "same-origin"
    assert moved.status_code == 200 and moved.json()["lines"][0]["delivered"] == 1700
    assert german.status_code == 200  # labels differ by language: another validator
