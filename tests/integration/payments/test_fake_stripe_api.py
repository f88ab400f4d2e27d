"""The fake Stripe at the HTTP level: Stripe's error format, its checks, its lifecycle and its saved state."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from app.config import Settings
from app.payments.gateway import GatewayError
from app.payments.stripe_gateway import StripeGateway
from app.sandbox import FakeStripe

from .conftest import API_KEY, checkout_request


@pytest.fixture
def api(fake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10) as client:
        yield client


def _line(amount: int = 1000, *, interval: str | None = None) -> dict[str, str]:
    form = {
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": str(amount),
        "line_items[0][price_data][product_data][name]": "Likes",
        "line_items[0][quantity]": "1",
    }
    if interval:
        form["line_items[0][price_data][recurring][interval]"] = interval
    return form


def test_missing_api_key_is_401_in_stripes_format(fake):
    answer = httpx.get(f"{fake.base_url}/v1/checkout/sessions/cs_test_x")
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "API key" in error["message"]
    assert fake.requests[-1].status == 401


def test_unknown_object_is_404_resource_missing(api):
    answer = api.get("/v1/refunds/re_missing")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "resource_missing"
    assert answer.json()["error"]["message"] == "No such refund: 're_missing'"


def test_unknown_endpoint_is_404(api):
    answer = api.post("/v1/payouts", data={"amount": "1"})
    assert answer.status_code == 404
    assert "Unrecognized request URL" in answer.json()["error"]["message"]


def test_session_below_stripes_minimum_charge_is_refused(api, fake):
    answer = api.post("/v1/checkout/sessions", data={"mode": "payment", **_line(amount=49)})
    assert answer.status_code == 400
    assert "at least €0.50" in answer.json()["error"]["message"]
    assert fake.sessions == {}


def test_recurring_price_in_payment_mode_is_refused(api):
    answer = api.post("/v1/checkout/sessions", data={"mode": "payment", **_line(interval="month")})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "mode"


def test_subscription_mode_without_recurring_price_is_refused(api):
    answer = api.post("/v1/checkout/sessions", data={"mode": "subscription", **_line()})
    assert answer.status_code == 400
    assert "recurring price" in answer.json()["error"]["message"]


def test_customer_and_customer_email_together_are_refused(api):
    data = {"mode": "payment", "customer": "cus_1", "customer_email": "a@example.com", **_line()}
    answer = api.post("/v1/checkout/sessions", data=data)
    assert answer.status_code == 400
    assert "only specify one" in answer.json()["error"]["message"]


def test_missing_line_items_names_the_parameter(api):
    answer = api.post("/v1/checkout/sessions", data={"mode": "payment"})
    assert answer.status_code == 400
    assert answer.json()["error"] | {"message": ""} == {
        "type": "invalid_request_error",
        "code": "parameter_missing",
        "param": "line_items",
        "message": "",
        "doc_url": "https://stripe.com/docs/error-codes/parameter-missing",
    }


def test_refused_request_keeps_no_idempotent_result(api, fake):
    headers = {"Idempotency-Key": "k-refused"}
    first = api.post("/v1/checkout/sessions", data={"mode": "payment", **_line(amount=10)}, headers=headers)
    fixed = api.post("/v1/checkout/sessions", data={"mode": "payment", **_line(amount=1000)}, headers=headers)
    assert (first.status_code, fixed.status_code) == (400, 200)
    assert len(fake.sessions) == 1


def test_key_reused_on_another_endpoint_is_an_idempotency_error(api):
    headers = {"Idempotency-Key": "k-shared"}
    assert api.post("/v1/customers", data={"email": "a@example.com"}, headers=headers).status_code == 200
    answer = api.post("/v1/refunds", data={"payment_intent": "pi_1"}, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "idempotency_error"


def test_line_items_of_a_session_are_listed(api, fake):
    created = api.post("/v1/checkout/sessions", data={"mode": "payment", **_line(amount=1234)}).json()
    listed = api.get(f"/v1/checkout/sessions/{created['id']}/line_items").json()
    assert listed["object"] == "list"
    (item,) = listed["data"]
    assert (item["object"], item["amount_total"], item["price"]["unit_amount"]) == ("item", 1234, 1234)
    assert "_product" not in item


def test_subscriptions_can_be_listed_per_customer_and_canceled(api, fake):
    customer = api.post("/v1/customers", data={"email": "abo@example.com"}).json()["id"]
    data = {"mode": "subscription", "customer": customer, **_line(amount=2900, interval="month")}
    session = api.post("/v1/checkout/sessions", data=data).json()
    fake.pay(session["id"], deliver=False)
    subscription_id = fake.sessions[session["id"]]["subscription"]

    listed = api.get("/v1/subscriptions", params={"customer": customer}).json()
    assert [item["id"] for item in listed["data"]] == [subscription_id]
    canceled = api.delete(f"/v1/subscriptions/{subscription_id}").json()
    assert canceled["status"] == "canceled"
    assert api.get("/v1/subscriptions", params={"customer": customer}).json()["data"] == []
    assert api.get("/v1/subscriptions", params={"status": "all"}).json()["data"][0]["id"] == subscription_id


def test_refund_status_can_be_set_to_pending(api, fake):
    intent = fake.create_payment(5000, metadata={"order_id": "9"})
    fake.refund_status = "pending"
    refund = api.post("/v1/refunds", data={"payment_intent": intent["id"], "amount": "100"}).json()
    assert refund["status"] == "pending"
    assert fake.charges[intent["latest_charge"]]["metadata"] == {"order_id": "9"}


def test_fake_starts_fast_and_frees_its_port_on_stop():
    began = time.perf_counter()
    fake = FakeStripe(api_key=API_KEY).start()
    assert time.perf_counter() - began < 1
    port = fake.port
    assert httpx.get(f"{fake.base_url}/v1/customers/cus_x").status_code == 401
    fake.stop()
    with socket.socket() as probe:
        probe.settimeout(1)
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_only_test_mode_keys_are_taken():
    with pytest.raises(ValueError, match="sk_test_"):
        FakeStripe(api_key="sk_live_123")


def test_settings_point_the_app_at_the_fake(fake):
    settings = fake.configure(Settings(env="test"))
    assert (settings.stripe_secret_key, settings.stripe_api_base) == (fake.api_key, fake.base_url)
    assert settings.stripe_webhook_secret == fake.webhook_secret
    env = fake.settings_env()
    assert env["SMPLAT_STRIPE_API_BASE"] == fake.base_url
    assert Settings.from_env(env).stripe_api_base == fake.base_url


async def test_state_survives_a_restart_when_saved(tmp_path):
    state = tmp_path / "stripe.json"
    with FakeStripe(api_key=API_KEY, state_path=state) as first:
        gateway = StripeGateway(api_key=API_KEY, webhook_secret=None, api_base=first.base_url)
        session = await gateway.create_checkout(checkout_request("3001"))
        first.pay(session.id)
        intent_id = first.sessions[session.id]["payment_intent"]
        await gateway.aclose()
    with FakeStripe(api_key=API_KEY, state_path=state) as second:
        gateway = StripeGateway(api_key=API_KEY, webhook_secret=None, api_base=second.base_url)
        try:
            refund = await gateway.refund(
                payment_intent_id=intent_id, amount=Decimal("24.68"), currency="EUR", idempotency_key="r:restart"
            )
            assert refund.amount == Decimal("24.68")
            with pytest.raises(GatewayError, match="already been refunded"):
                await gateway.refund(
                    payment_intent_id=intent_id, amount=Decimal("1"), currency="EUR", idempotency_key="r:again"
                )
        finally:
            await gateway.aclose()
