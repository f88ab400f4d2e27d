"""Subscriptions through the storefront: the form, Stripe Checkout in subscription mode (the real SDK against the
fake Stripe), signed webhooks in any order and repeated, renewals, declines, cancellation and the portal."""

from __future__ import annotations

import asyncio
import random
import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Service, ServiceKind
from app.customers.models import Customer
from app.orders.models import Order, OrderSource
from app.orders.states import LineStatus, OrderStatus
from app.payments.models import Payment, PaymentRecordStatus, Subscription, SubscriptionStatus
from app.sandbox import FakeStripe
from tests import factories
from tests.integration.payments.conftest import SAME_ORIGIN


@pytest.fixture
async def service(session: AsyncSession) -> Service:
    made = await factories.service(
        session, kind=ServiceKind.SUBSCRIPTION, price="29.0000", min_quantity=50, max_quantity=5000
    )
    await factories.company_settings(session)
    await session.commit()
    return made


def subscription_form(service: Service, **changes: str) -> dict[str, str]:
    form = {
        "service": service.slug,
        "form_key": "form-sub-1",
        "username": "@lena.schmidt",
        "posts": "8",
        "quantity": "200",
        "email": "lena@example.com",
        "country": "DE",
        "company": "",
        "vat_id": "",
    }
    return {**form, **changes}


async def rows(session: AsyncSession, model: Any) -> list[Any]:
    found = await session.scalars(sa.select(model).execution_options(populate_existing=True).order_by(model.id))
    return list(found.unique().all())


async def post_events(shop: AsyncTestClient[Litestar], fake: FakeStripe, events: list[dict[str, Any]]) -> None:
    for event in events:
        body, headers = fake.signed_request(event)
        response = await shop.post("/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 200, response.text


async def subscribe(shop: AsyncTestClient[Litestar], service: Service) -> str:
    """Send the form; returns the checkout session id it leads to."""
    sent = await shop.post("/checkout", data=subscription_form(service), headers=SAME_ORIGIN, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    match = re.search(r"/checkout/(cs_[A-Za-z0-9_]+)", sent.headers["location"])
    assert match is not None
    return match.group(1)


async def subscribed(shop: AsyncTestClient[Litestar], fake: FakeStripe, service: Service) -> str:
    """Subscribe and pay (all events delivered); returns the Stripe subscription id."""
    session_id = await subscribe(shop, service)
    await post_events(shop, fake, fake.pay(session_id, deliver=False))
    return str(fake.sessions[session_id]["subscription"])


async def test_subscribing_opens_a_monthly_checkout_for_an_incomplete_subscription(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    page = await shop.get(f"/services/{service.slug}")
    assert page.status_code == 200 and 'name="username"' in page.text and 'name="posts"' in page.text

    session_id = await subscribe(shop, service)

    (subscription,) = await rows(session, Subscription)
    (order,) = await rows(session, Order)
    assert subscription.status == SubscriptionStatus.INCOMPLETE
    assert (subscription.target_username, subscription.posts_per_period, subscription.quantity_per_post) == (
        "lena.schmidt",
        8,
        200,
    )
    assert (order.subscription_id, order.source, order.status) == (
        subscription.id,
        OrderSource.STOREFRONT,
        OrderStatus.PENDING_PAYMENT,
    )
    assert (order.net, order.gross, subscription.price) == (Decimal("29.00"), Decimal("34.51"), Decimal("34.51"))
    stripe_session = fake_stripe.sessions[session_id]
    assert stripe_session["mode"] == "subscription" and stripe_session["amount_total"] == 3451
    assert stripe_session["metadata"]["subscription_id"] == str(subscription.id)
    assert stripe_session["metadata"]["order_id"] == str(order.id)
    assert any(r.idempotency_key == f"subscription:{subscription.id}:1" for r in fake_stripe.requests)


async def test_paying_activates_the_subscription_and_pays_the_first_order(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    session_id = await subscribe(shop, service)
    events = fake_stripe.pay(session_id, deliver=False)
    assert [event["type"] for event in events] == ["checkout.session.completed", "invoice.paid"]
    for _ in range(2):
        await post_events(shop, fake_stripe, list(reversed(events)))  # invoice first, then the session; twice

    (subscription,) = await rows(session, Subscription)
    (order,) = await rows(session, Order)
    stripe_session = fake_stripe.sessions[session_id]
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.stripe_subscription_id == stripe_session["subscription"]
    assert subscription.current_period_end is not None
    assert order.status == OrderStatus.PAID
    assert {line.fulfillment_status for line in order.lines} == {LineStatus.QUEUED}
    customer = await session.get(Customer, order.customer_id, populate_existing=True)
    assert customer is not None and customer.stripe_customer_id == stripe_session["customer"]
    (payment,) = await rows(session, Payment)
    assert payment.status == PaymentRecordStatus.SUCCEEDED and payment.amount == order.gross


async def test_each_paid_renewal_makes_exactly_one_paid_order_however_often_and_in_whatever_order_it_arrives(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    stripe_id = await subscribed(shop, fake_stripe, service)
    renewals = [fake_stripe.renew_subscription(stripe_id, deliver=False) for _ in range(2)]
    deliveries = [event for events in renewals for event in events for _ in range(5)]
    random.Random(7).shuffle(deliveries)

    await post_events(shop, fake_stripe, deliveries)

    orders = await rows(session, Order)
    assert [order.source for order in orders] == [OrderSource.STOREFRONT, OrderSource.RENEWAL, OrderSource.RENEWAL]
    invoices = {events[-1]["data"]["object"]["id"] for events in renewals}
    assert {order.idempotency_key for order in orders[1:]} == {f"renewal:{invoice}" for invoice in invoices}
    for renewal in orders[1:]:
        assert renewal.status == OrderStatus.PAID and renewal.gross == orders[0].gross
        assert {line.fulfillment_status for line in renewal.lines} == {LineStatus.QUEUED}
        assert [(line.link, line.quantity) for line in renewal.lines] == [
            (line.link, line.quantity) for line in orders[0].lines
        ]
    payments = await rows(session, Payment)
    assert len(payments) == 3
    assert all(payment.stripe_payment_intent_id for payment in payments[1:])
    (subscription,) = await rows(session, Subscription)
    last_end = fake_stripe.subscriptions[stripe_id]["items"]["data"][0]["current_period_end"]
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_period_end is not None
    assert int(subscription.current_period_end.timestamp()) == last_end


async def test_a_declined_renewal_makes_the_subscription_past_due_and_no_order(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    stripe_id = await subscribed(shop, fake_stripe, service)

    events = fake_stripe.renew_subscription(stripe_id, paid=False, deliver=False)
    await post_events(shop, fake_stripe, events + events)

    (subscription,) = await rows(session, Subscription)
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert len(await rows(session, Order)) == 1


async def test_canceling_in_the_portal_cancels_the_subscription_for_good(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    stripe_id = await subscribed(shop, fake_stripe, service)
    stale_update = fake_stripe.event("customer.subscription.updated", fake_stripe.subscriptions[stripe_id])

    await post_events(shop, fake_stripe, fake_stripe.cancel_subscription(stripe_id, deliver=False))
    await post_events(shop, fake_stripe, [stale_update])  # an "active" update delivered late

    (subscription,) = await rows(session, Subscription)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert subscription.canceled_at is not None


async def test_the_order_page_shows_the_subscription_and_opens_the_customer_portal(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    session_id = await subscribe(shop, service)
    await post_events(shop, fake_stripe, fake_stripe.pay(session_id, deliver=False))
    page = await shop.get("/checkout/done", follow_redirects=True)
    token = str(page.url).rsplit("/", 1)[-1]

    assert page.status_code == 200 and "@lena.schmidt" in page.text
    assert f'action="/track/{token}/subscription"' in page.text

    portal = await shop.post(f"/track/{token}/subscription", headers=SAME_ORIGIN, follow_redirects=False)

    assert portal.status_code == 303
    assert portal.headers["location"].startswith(fake_stripe.base_url)
    (request,) = [r for r in fake_stripe.requests if "billing_portal" in r.path]
    assert request.params["return_url"].endswith(f"/track/{token}")
    forged = await shop.post(
        f"/track/{token}/subscription", headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
    )
    assert forged.status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "https://www.instagram.com/p/Cabc123/"}, "username"),
        ({"username": "https://www.tiktok.com/@lena"}, "username"),
        ({"posts": "0"}, "posts"),
        ({"posts": "31"}, "posts"),
        ({"posts": "vier"}, "posts"),
        ({"posts": ""}, "posts"),
        ({"quantity": "10"}, "quantity"),
        ({"quantity": "9999999"}, "quantity"),
        ({"email": "not-an-address"}, "email"),
        ({"vat_id": "DE123"}, "vat_id"),
    ],
)
async def test_bad_input_on_the_subscription_form_shows_field_errors_and_creates_nothing(
    shop: AsyncTestClient[Litestar], session: AsyncSession, service: Service, changes: dict[str, str], field: str
):
    form = subscription_form(service, **changes)

    answer = await shop.post("/checkout", data=form, headers=SAME_ORIGIN)

    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text
    assert f'value="{form["email"]}"' in answer.text
    for model in (Subscription, Order, Customer):
        assert await rows(session, model) == []


async def test_the_live_quote_of_a_subscription_is_per_month_with_vat(
    shop: AsyncTestClient[Litestar], service: Service
):
    answer = await shop.get(
        "/checkout/quote", params={"service": service.slug, "username": "@lena", "posts": "4", "quantity": "100"}
    )

    assert answer.status_code == 200
    assert "34,51" in answer.text or "34.51" in answer.text


async def test_fresh_events_for_one_renewal_invoice_sent_at_once_make_one_order(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    stripe_id = await subscribed(shop, fake_stripe, service)
    *_, paid = fake_stripe.renew_subscription(stripe_id, deliver=False)
    invoice = paid["data"]["object"]
    copies = [fake_stripe.event("invoice.paid", invoice) for _ in range(4)]  # distinct event ids, one invoice

    await asyncio.gather(*(post_events(shop, fake_stripe, [event]) for event in copies))

    orders = await rows(session, Order)
    assert [order.idempotency_key for order in orders[1:]] == [f"renewal:{invoice['id']}"]
    assert len(await rows(session, Payment)) == 2


async def test_the_success_page_alone_activates_the_subscription_when_the_webhooks_are_late(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, service: Service
):
    session_id = await subscribe(shop, service)
    events = fake_stripe.pay(session_id, deliver=False)

    back = await shop.get(f"/checkout/success?session_id={session_id}", follow_redirects=True)
    (subscription,) = await rows(session, Subscription)
    assert subscription.status == SubscriptionStatus.ACTIVE and "/track/" in str(back.url)
    await post_events(shop, fake_stripe, events)

    (order,) = await rows(session, Order)
    assert order.status == OrderStatus.PAID
    assert len(await rows(session, Payment)) == 1
