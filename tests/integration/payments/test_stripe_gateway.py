"""Contract tests: the real Stripe SDK, through StripeGateway, against the loopback fake Stripe."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from app.config import Settings
from app.payments.gateway import CheckoutItem, GatewayError
from app.payments.stripe_gateway import StripeGateway, gateway_from_settings
from app.sandbox import FakeStripe

from .conftest import API_KEY, WEBHOOK_SECRET, WebhookReceiver, checkout_request


def _posts(fake: FakeStripe, path: str) -> list:
    return [request for request in fake.requests if request.method == "POST" and request.path == path]


async def test_checkout_in_payment_mode_sends_gross_cents_and_the_order_id(gateway, fake):
    session = await gateway.create_checkout(checkout_request("1001"))

    assert session.id.startswith("cs_test_")
    assert session.url == f"{fake.base_url}/checkout/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.amount_total == Decimal("24.68")
    assert session.currency == "EUR"
    assert session.reference == "1001"
    assert session.metadata == {"order_number": "SMP-2026-001001", "order_id": "1001"}
    assert session.customer_email == "kunde@example.com"
    (sent,) = _posts(fake, "/v1/checkout/sessions")
    assert sent.idempotency_key == "checkout:1001:1"
    params = sent.params
    assert params["mode"] == "payment"
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": "1234",
                "product_data": {"name": "1000 Instagram likes", "description": "instagram.com/p/x"},
            },
            "quantity": "2",
        }
    ]
    assert params["client_reference_id"] == "1001"
    assert params["payment_intent_data"] == {"metadata": {"order_number": "SMP-2026-001001", "order_id": "1001"}}
    assert params["invoice_creation"] == {"enabled": "false"}
    assert params["automatic_tax"] == {"enabled": "false"}
    assert (params["customer_email"], params["locale"]) == ("kunde@example.com", "de")
    assert "customer" not in params
    assert "subscription_data" not in params


async def test_checkout_amounts_stay_exact_to_the_cent(gateway):
    items = (
        CheckoutItem("Likes", Decimal("0.10"), 3),
        CheckoutItem("Followers", Decimal("19.99"), 1),
        CheckoutItem("Views", Decimal("0.07"), 7),
    )
    session = await gateway.create_checkout(checkout_request("1002", items=items))
    assert session.amount_total == Decimal("20.78")


async def test_checkout_with_sub_cent_amount_is_refused_before_reaching_stripe(gateway, fake):
    items = (CheckoutItem("Likes", Decimal("1.005")),)
    with pytest.raises(GatewayError, match="smallest unit") as refused:
        await gateway.create_checkout(checkout_request("1003", items=items))
    assert refused.value.retryable is False
    assert fake.requests == []


async def test_checkout_for_a_known_customer_names_the_customer_not_the_email(gateway, fake):
    customer_id = await gateway.create_customer(email="firma@example.com", name="Firma GmbH", idempotency_key="cus:7")
    session = await gateway.create_checkout(checkout_request("1004", customer_id=customer_id, locale="en"))

    assert session.customer_id == customer_id
    sent = _posts(fake, "/v1/checkout/sessions")[0].params
    assert sent["customer"] == customer_id
    assert "customer_email" not in sent
    assert sent["locale"] == "en"


async def test_checkout_in_subscription_mode_creates_a_monthly_price(gateway, fake):
    items = (CheckoutItem("Auto likes, 4 posts", Decimal("29.00")),)
    session = await gateway.create_checkout(checkout_request("1005", items=items, recurring_interval="month"))

    assert session.mode == "subscription"
    assert session.amount_total == Decimal("29.00")
    params = _posts(fake, "/v1/checkout/sessions")[0].params
    assert params["mode"] == "subscription"
    assert params["line_items"][0]["price_data"]["recurring"] == {"interval": "month"}
    assert params["subscription_data"] == {"metadata": {"order_number": "SMP-2026-001005", "order_id": "1005"}}
    assert "payment_intent_data" not in params
    assert "invoice_creation" not in params

    fake.pay(session.id)
    paid = await gateway.retrieve_checkout(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.subscription_id is not None
    assert paid.subscription_id.startswith("sub_")
    assert paid.customer_id is not None
    assert paid.customer_id.startswith("cus_")
    assert paid.invoice_id is not None
    assert paid.invoice_id.startswith("in_")
    assert paid.payment_intent_id is None
    subscription = await gateway.retrieve_subscription(paid.subscription_id)
    assert subscription["status"] == "active"
    assert subscription["metadata"]["order_id"] == "1005"
    assert subscription["items"]["data"][0]["price"]["recurring"]["interval"] == "month"


async def test_retrieve_after_payment_shows_paid_with_its_payment_intent(gateway, fake):
    session = await gateway.create_checkout(checkout_request("1006"))
    fake.pay(session.id)

    paid = await gateway.retrieve_checkout(session.id)

    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.payment_intent_id is not None
    intent = fake.payment_intents[paid.payment_intent_id]
    assert intent["amount"] == 2468
    assert intent["metadata"]["order_id"] == "1006"
    assert fake.charges[intent["latest_charge"]]["metadata"]["order_id"] == "1006"


async def test_retrieve_unknown_session_is_a_final_refusal(gateway):
    with pytest.raises(GatewayError) as refused:
        await gateway.retrieve_checkout("cs_test_missing")
    assert (refused.value.retryable, refused.value.code, refused.value.status) == (False, "resource_missing", 404)


async def test_expire_closes_an_open_session_and_announces_it(gateway, fake, receiver: WebhookReceiver):
    session = await gateway.create_checkout(checkout_request("1007"))

    expired = await gateway.expire_checkout(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    assert fake.wait_for_deliveries()
    assert receiver.types() == ["checkout.session.expired"]
    assert _posts(fake, f"/v1/checkout/sessions/{session.id}/expire")[0].idempotency_key == f"expire:{session.id}"


async def test_expire_of_a_paid_session_is_refused(gateway, fake):
    session = await gateway.create_checkout(checkout_request("1008"))
    fake.pay(session.id)
    with pytest.raises(GatewayError, match="can be expired") as refused:
        await gateway.expire_checkout(session.id)
    assert refused.value.retryable is False


async def test_same_idempotency_key_twice_gives_the_same_session(gateway, fake):
    first = await gateway.create_checkout(checkout_request("1009", key="checkout:1009:1"))
    again = await gateway.create_checkout(checkout_request("1009", key="checkout:1009:1"))

    assert again.id == first.id
    assert len(fake.sessions) == 1
    assert [request.replayed for request in _posts(fake, "/v1/checkout/sessions")] == [False, True]


async def test_same_idempotency_key_with_other_parameters_is_refused(gateway, fake):
    await gateway.create_checkout(checkout_request("1010", key="checkout:shared"))
    with pytest.raises(GatewayError, match="same parameters") as refused:
        await gateway.create_checkout(checkout_request("1011", key="checkout:shared"))
    assert (refused.value.retryable, refused.value.code) == (False, "idempotency_error")
    assert len(fake.sessions) == 1


async def _paid_payment_intent(gateway, fake, reference: str) -> str:
    session = await gateway.create_checkout(checkout_request(reference))
    fake.pay(session.id)
    paid = await gateway.retrieve_checkout(session.id)
    assert paid.payment_intent_id is not None
    return paid.payment_intent_id


async def test_partial_then_full_refund_then_over_refund_refused(gateway, fake, receiver: WebhookReceiver):
    intent_id = await _paid_payment_intent(gateway, fake, "1012")
    receiver.received.clear()

    partial = await gateway.refund(
        payment_intent_id=intent_id, amount=Decimal("4.68"), currency="EUR", idempotency_key="refund:1012:a"
    )
    rest = await gateway.refund(
        payment_intent_id=intent_id,
        amount=Decimal("20.00"),
        currency="EUR",
        idempotency_key="refund:1012:b",
        reason="requested_by_customer",
    )

    assert (partial.amount, partial.currency, partial.status) == (Decimal("4.68"), "EUR", "succeeded")
    assert partial.id.startswith("re_")
    assert partial.payment_intent_id == intent_id
    assert (rest.amount, rest.reason) == (Decimal("20.00"), "requested_by_customer")
    charge = fake.charges[fake.payment_intents[intent_id]["latest_charge"]]
    assert (charge["amount_refunded"], charge["refunded"]) == (2468, True)

    with pytest.raises(GatewayError, match="already been refunded") as refused:
        await gateway.refund(
            payment_intent_id=intent_id, amount=Decimal("0.01"), currency="EUR", idempotency_key="refund:1012:c"
        )
    assert (refused.value.retryable, refused.value.code) == (False, "charge_already_refunded")

    assert fake.wait_for_deliveries()
    events = [item.event for item in receiver.received]
    assert [event["type"] for event in events] == ["charge.refunded", "charge.refunded"]
    assert [event["data"]["object"]["amount_refunded"] for event in events] == [468, 2468]
    assert events[0]["data"]["object"]["payment_intent"] == intent_id
    assert events[0]["data"]["object"]["metadata"]["order_id"] == "1012"
    assert [refund["id"] for refund in events[1]["data"]["object"]["refunds"]["data"]] == [rest.id, partial.id]
    assert events[0]["data"]["previous_attributes"] == {"amount_refunded": 0}


async def test_refund_above_the_unrefunded_amount_is_refused(gateway, fake):
    intent_id = await _paid_payment_intent(gateway, fake, "1013")
    await gateway.refund(payment_intent_id=intent_id, amount=Decimal("20.00"), currency="EUR", idempotency_key="r:1")

    with pytest.raises(GatewayError, match="greater than unrefunded amount") as refused:
        await gateway.refund(payment_intent_id=intent_id, amount=Decimal("5.00"), currency="EUR", idempotency_key="r:2")

    assert (refused.value.retryable, refused.value.code) == (False, "amount_too_large")
    assert len(fake.refunds) == 1


async def test_refund_sent_twice_with_one_key_refunds_once(gateway, fake):
    intent_id = await _paid_payment_intent(gateway, fake, "1014")
    first = await gateway.refund(
        payment_intent_id=intent_id, amount=Decimal("5"), currency="EUR", idempotency_key="r:x"
    )
    again = await gateway.refund(
        payment_intent_id=intent_id, amount=Decimal("5"), currency="EUR", idempotency_key="r:x"
    )
    assert again.id == first.id
    assert len(fake.refunds) == 1


async def test_refund_reason_of_our_own_goes_to_metadata(gateway, fake):
    intent_id = await _paid_payment_intent(gateway, fake, "1015")
    refund = await gateway.refund(
        payment_intent_id=intent_id,
        amount=Decimal("1.00"),
        currency="EUR",
        idempotency_key="r:partial",
        reason="provider delivered partially",
    )
    assert refund.reason is None
    assert fake.refunds[refund.id]["metadata"] == {"reason": "provider delivered partially"}
    assert await gateway.retrieve_refund(refund.id) == refund


async def test_refund_of_an_unknown_payment_is_a_final_refusal(gateway):
    with pytest.raises(GatewayError) as refused:
        await gateway.refund(payment_intent_id="pi_missing", amount=Decimal("1"), currency="EUR", idempotency_key="r:m")
    assert (refused.value.retryable, refused.value.code) == (False, "resource_missing")


async def test_portal_url_opens_the_fakes_portal_for_the_customer(gateway, fake):
    customer_id = await gateway.create_customer(email="abo@example.com", name=None, idempotency_key="cus:abo")

    url = await gateway.portal_url(customer_id=customer_id, return_url="http://shop.test/portal")

    assert url.startswith(f"{fake.base_url}/billing_portal/bps_")
    (sent,) = _posts(fake, "/v1/billing_portal/sessions")
    assert sent.params == {"customer": customer_id, "return_url": "http://shop.test/portal"}
    assert sent.idempotency_key


async def test_portal_for_an_unknown_customer_is_refused(gateway):
    with pytest.raises(GatewayError) as refused:
        await gateway.portal_url(customer_id="cus_missing", return_url="http://shop.test/portal")
    assert (refused.value.retryable, refused.value.code) == (False, "resource_missing")


async def test_every_write_carries_an_idempotency_key(gateway, fake):
    intent_id = await _paid_payment_intent(gateway, fake, "1016")
    await gateway.refund(payment_intent_id=intent_id, amount=Decimal("1"), currency="EUR", idempotency_key="r:k")
    customer_id = await gateway.create_customer(email="k@example.com", name=None, idempotency_key="cus:k")
    await gateway.portal_url(customer_id=customer_id, return_url="http://shop.test/portal")
    session = await gateway.create_checkout(checkout_request("1017"))
    await gateway.expire_checkout(session.id)

    writes = [request for request in fake.requests if request.method == "POST"]
    assert len(writes) == 6
    assert all(request.idempotency_key for request in writes)


async def test_wrong_api_key_is_a_final_refusal(fake):
    wrong = StripeGateway(api_key="sk_test_wrong", webhook_secret=WEBHOOK_SECRET, api_base=fake.base_url)
    try:
        with pytest.raises(GatewayError, match="credentials") as refused:
            await wrong.create_checkout(checkout_request("1018"))
    finally:
        await wrong.aclose()
    assert (refused.value.retryable, refused.value.status) == (False, 401)
    assert fake.sessions == {}


async def test_unreachable_stripe_is_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    offline = StripeGateway(
        api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=f"http://127.0.0.1:{port}", max_network_retries=0
    )
    try:
        with pytest.raises(GatewayError, match="could not be reached") as refused:
            await offline.create_checkout(checkout_request("1019"))
    finally:
        await offline.aclose()
    assert refused.value.retryable is True


async def test_stripe_server_error_is_retryable(fake):
    gateway = StripeGateway(
        api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=fake.base_url, max_network_retries=0
    )
    fake.fail_next("POST", "/v1/refunds", status=500)
    try:
        with pytest.raises(GatewayError) as refused:
            await gateway.refund(payment_intent_id="pi_x", amount=Decimal("1"), currency="EUR", idempotency_key="r:500")
    finally:
        await gateway.aclose()
    assert (refused.value.retryable, refused.value.status) == (True, 500)


async def test_rate_limit_is_retryable(fake):
    gateway = StripeGateway(
        api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=fake.base_url, max_network_retries=0
    )
    fake.fail_next("POST", "/v1/checkout/sessions", status=429, code="rate_limit", error_type="invalid_request_error")
    try:
        with pytest.raises(GatewayError) as refused:
            await gateway.create_checkout(checkout_request("1020"))
    finally:
        await gateway.aclose()
    assert (refused.value.retryable, refused.value.code) == (True, "rate_limit")


async def test_the_sdk_retries_a_server_error_with_the_same_idempotency_key(gateway, fake):
    fake.fail_next("POST", "/v1/checkout/sessions", status=500)
    session = await gateway.create_checkout(checkout_request("1021", key="checkout:1021:1"))
    attempts = _posts(fake, "/v1/checkout/sessions")
    assert [(request.status, request.idempotency_key) for request in attempts] == [
        (500, "checkout:1021:1"),
        (200, "checkout:1021:1"),
    ]
    assert list(fake.sessions) == [session.id]


def test_gateway_comes_from_settings_only_with_a_secret_key():
    assert gateway_from_settings(Settings(env="test")) is None
    configured = gateway_from_settings(
        Settings(env="test", stripe_secret_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET)
    )
    assert isinstance(configured, StripeGateway)
    assert configured.name == "stripe"
