"""Buying through the storefront over HTTP: the form, the real Stripe SDK against the fake Stripe, signed webhooks,
the success page and the order page — on real PostgreSQL."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Service
from app.config import Settings
from app.customers.models import Customer
from app.orders.models import Order
from app.orders.states import LineStatus, OrderStatus, PaymentStatus
from app.payments.models import Payment, PaymentRecordStatus, StripeEvent
from app.sandbox import FakeStripe
from tests import factories
from tests.integration.edge_checks import log_lines
from tests.integration.payments.conftest import BASE, SAME_ORIGIN


@pytest.fixture
async def service(session: AsyncSession) -> Service:
    made = await factories.service(session, price="2.5000")
    await factories.company_settings(session)
    await session.commit()
    return made


def order_form(service: Service, **changes: str) -> dict[str, str]:
    form = {
        "service": service.slug,
        "form_key": "form-1",
        "link": "@lena.schmidt",
        "quantity": "1000",
        "email": "Lena@Example.com",
        "country": "DE",
        "company": "",
        "vat_id": "",
    }
    return {**form, **changes}


async def orders(session: AsyncSession) -> list[Order]:
    rows = await session.scalars(sa.select(Order).execution_options(populate_existing=True).order_by(Order.id))
    return list(rows.unique().all())


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def post_events(shop: AsyncTestClient[Litestar], fake: FakeStripe, events: list[dict[str, Any]]) -> None:
    for event in events:
        body, headers = fake.signed_request(event)
        response = await shop.post("/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 200, response.text


async def test_a_client_buys_pays_and_lands_on_their_paid_order(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    page = await shop.get(f"/services/{service.slug}")
    assert page.status_code == 200 and 'action="/checkout"' in page.text

    sent = await shop.post("/checkout", data=order_form(service), headers=SAME_ORIGIN, follow_redirects=False)

    assert sent.status_code == 303
    session_id = re.search(r"/checkout/(cs_[A-Za-z0-9_]+)", sent.headers["location"]).group(1)  # type: ignore[union-attr]
    (order,) = await orders(session)
    assert (order.status, order.gross, order.tax_treatment) == (
        OrderStatus.PENDING_PAYMENT,
        Decimal("2.98"),
        "domestic",
    )
    assert order.customer.email == "lena@example.com"
    stripe_session = fake_stripe.sessions[session_id]
    assert stripe_session["amount_total"] == 298  # our gross, to the cent
    assert any(r.idempotency_key == f"checkout:{order.id}:1" for r in fake_stripe.requests)

    await post_events(shop, fake_stripe, fake_stripe.pay(session_id, deliver=False))
    back = await shop.get(f"/checkout/success?session_id={session_id}", follow_redirects=True)

    (order,) = await orders(session)
    assert (order.status, order.payment_status) == (OrderStatus.PAID, PaymentStatus.PAID)
    assert {line.fulfillment_status for line in order.lines} == {LineStatus.QUEUED}
    (payment,) = (await session.scalars(sa.select(Payment))).all()
    assert payment.status == PaymentRecordStatus.SUCCEEDED and payment.amount == order.gross
    assert back.status_code == 200 and order.number in back.text and "/track/" in str(back.url)
    assert back.headers["referrer-policy"] == "same-origin"


async def test_the_success_page_alone_pays_the_order_when_the_webhook_is_late(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    sent = await shop.post("/checkout", data=order_form(service), headers=SAME_ORIGIN, follow_redirects=False)
    session_id = sent.headers["location"].rsplit("/", 1)[-1]
    events = fake_stripe.pay(session_id, deliver=False)

    await shop.get(f"/checkout/success?session_id={session_id}")
    await post_events(shop, fake_stripe, events)  # arrives later: finds the order paid

    (order,) = await orders(session)
    assert order.status == OrderStatus.PAID
    assert await count(session, Payment) == 1


async def test_sending_the_same_form_twice_places_one_order(
    shop: AsyncTestClient[Litestar], session: AsyncSession, service: Service
):
    for _ in range(2):
        sent = await shop.post("/checkout", data=order_form(service), headers=SAME_ORIGIN, follow_redirects=False)
        assert sent.status_code == 303
    assert len(await orders(session)) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"link": "https://www.tiktok.com/@lena"}, "link"),
        ({"quantity": "5"}, "quantity"),
        ({"quantity": "zehn"}, "quantity"),
        ({"email": "not-an-address"}, "email"),
        ({"vat_id": "DE123"}, "vat_id"),
        ({"country": "AT", "vat_id": "DE136695976", "company": "Firma"}, "vat_id"),
        ({"country": "Germany"}, "country"),
    ],
)
async def test_bad_input_re_renders_the_form_with_the_error_and_creates_nothing(
    shop: AsyncTestClient[Litestar], session: AsyncSession, service: Service, changes: dict[str, str], field: str
):
    form = order_form(service, **changes)
    answer = await shop.post("/checkout", data=form, headers=SAME_ORIGIN)

    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text
    for name in ("link", "email"):
        assert f'value="{form[name]}"' in answer.text  # what was typed is kept
    assert await count(session, Order) == 0 and await count(session, Customer) == 0


async def test_a_form_sent_from_another_site_is_refused(
    shop: AsyncTestClient[Litestar], session: AsyncSession, service: Service
):
    answer = await shop.post(
        "/checkout",
        data=order_form(service),
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
    )
    assert answer.status_code == 403
    assert await count(session, Order) == 0


async def test_an_unreachable_processor_keeps_the_order_and_says_so(
    settings: Settings, session: AsyncSession, service: Service
):
    from app.asgi import create_app

    fake = FakeStripe(api_key="sk_test_gone").start()
    configured = fake.configure(settings)
    fake.stop()  # refuses connections from now on
    async with AsyncTestClient(app=create_app(configured), base_url=BASE) as shop:
        answer = await shop.post("/checkout", data=order_form(service), headers=SAME_ORIGIN)

    assert answer.status_code == 503
    (order,) = await orders(session)
    assert order.number in answer.text and order.status == OrderStatus.PENDING_PAYMENT
    assert await count(session, Payment) == 0


async def test_each_delivery_is_logged_once_on_its_access_line_with_the_event_and_outcome(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
):
    caplog.set_level("INFO")
    event = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})

    await post_events(shop, fake_stripe, [event, event])

    lines = [line for line in log_lines(caplog, "request") if line["path"] == "/webhooks/stripe"]
    outcomes = [(line["event_id"], line["event_type"], line["handled"], line["status"]) for line in lines]
    assert outcomes == [
        (event["id"], "customer.created", "ignored", 200),
        (event["id"], "customer.created", "duplicate", 200),
    ]
    assert log_lines(caplog, "webhook") == []


@pytest.mark.parametrize("tamper", ["body", "signature", "stale", "missing"])
async def test_a_webhook_that_is_not_stripes_is_refused_and_stores_nothing(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, tamper: str
):
    event = fake_stripe.event("checkout.session.completed", {"id": "cs_x", "object": "checkout.session"})
    body, headers = fake_stripe.signed_request(event, timestamp=1_000_000_000 if tamper == "stale" else None)
    if tamper == "body":
        body = body.replace(b"cs_x", b"cs_y")
    if tamper == "signature":
        headers["Stripe-Signature"] = headers["Stripe-Signature"][:-4] + "0000"
    if tamper == "missing":
        del headers["Stripe-Signature"]

    answer = await shop.post("/webhooks/stripe", content=body, headers=headers)

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert await count(session, StripeEvent) == 0


async def test_the_live_quote_shows_the_vat_the_buyer_will_pay(shop: AsyncTestClient[Litestar], service: Service):
    german = await shop.get("/checkout/quote", params={"service": service.slug, "quantity": "1000", "country": "DE"})
    austrian_business = await shop.get(
        "/checkout/quote",
        params={"service": service.slug, "quantity": "1000", "country": "AT", "company": "X", "vat_id": "ATU13585627"},
    )
    too_few = await shop.get("/checkout/quote", params={"service": service.slug, "quantity": "5"})

    assert "2.98" in german.text.replace(",", ".") and "19" in german.text
    assert "2.50" in austrian_business.text.replace(",", ".") and "13b" in austrian_business.text
    assert "between" in too_few.text.lower() or "zwischen" in too_few.text.lower()
