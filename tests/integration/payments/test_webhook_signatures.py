"""Webhooks: the gateway accepts only bodies signed with our secret within 300 s; the fake signs as Stripe does."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import stripe

from app.payments.gateway import InvalidWebhook
from app.payments.stripe_gateway import StripeGateway

from .conftest import WEBHOOK_SECRET


def _event(fake) -> dict:
    return fake.event(
        "checkout.session.completed",
        {"id": "cs_test_1", "object": "checkout.session", "metadata": {"order_id": "7"}, "payment_status": "paid"},
    )


def test_signed_event_parses_into_plain_json(gateway: StripeGateway, fake):
    body, headers = fake.signed_request(_event(fake))

    event = gateway.parse_webhook(body, headers["Stripe-Signature"])

    assert event.id.startswith("evt_")
    assert event.type == "checkout.session.completed"
    assert event.created.tzinfo == UTC
    assert abs((datetime.now(tz=UTC) - event.created).total_seconds()) < 5
    assert type(event.object) is dict
    assert event.object["metadata"] == {"order_id": "7"}
    assert type(event.object["metadata"]) is dict
    assert event.payload == json.loads(body)
    assert event.payload["api_version"] == stripe.api_version


def test_tampered_body_is_refused(gateway, fake):
    body, headers = fake.signed_request(_event(fake))
    tampered = body.replace(b'"order_id":"7"', b'"order_id":"8"')
    with pytest.raises(InvalidWebhook, match="does not match"):
        gateway.parse_webhook(tampered, headers["Stripe-Signature"])


def test_signature_with_another_secret_is_refused(fake):
    other = StripeGateway(api_key="sk_test_other", webhook_secret="whsec_other")
    body, headers = fake.signed_request(_event(fake))
    with pytest.raises(InvalidWebhook, match="does not match"):
        other.parse_webhook(body, headers["Stripe-Signature"])


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_is_refused(gateway, fake, header):
    body, _headers = fake.signed_request(_event(fake))
    with pytest.raises(InvalidWebhook, match="missing Stripe-Signature"):
        gateway.parse_webhook(body, header)


def test_garbled_signature_header_is_refused(gateway, fake):
    body, _headers = fake.signed_request(_event(fake))
    with pytest.raises(InvalidWebhook, match="malformed"):
        gateway.parse_webhook(body, "t=abc,v0=123")


def test_signature_older_than_five_minutes_is_refused(gateway, fake):
    body, headers = fake.signed_request(_event(fake), timestamp=int(time.time()) - 301)
    with pytest.raises(InvalidWebhook, match="stale timestamp"):
        gateway.parse_webhook(body, headers["Stripe-Signature"])


def test_signature_four_minutes_old_is_accepted(gateway, fake):
    body, headers = fake.signed_request(_event(fake), timestamp=int(time.time()) - 240)
    assert gateway.parse_webhook(body, headers["Stripe-Signature"]).type == "checkout.session.completed"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"id": "evt_1"}', b"\xff\xfe"])
def test_unparsable_body_is_refused_even_when_signed(gateway, fake, body):
    with pytest.raises(InvalidWebhook, match=r"^unparsable body"):
        gateway.parse_webhook(body, fake.sign(body))


def test_without_webhook_secret_nothing_is_trusted(fake):
    unconfigured = StripeGateway(api_key="sk_test_x", webhook_secret=None)
    body, headers = fake.signed_request(_event(fake))
    with pytest.raises(InvalidWebhook, match="no webhook secret"):
        unconfigured.parse_webhook(body, headers["Stripe-Signature"])


def test_fake_signatures_verify_with_stripes_own_code(fake):
    body, headers = fake.signed_request(_event(fake))
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], WEBHOOK_SECRET, tolerance=300)
    assert event.type == "checkout.session.completed"
    stamp = int(time.time())
    assert fake.sign(body, stamp) == stripe.WebhookSignature.generate_signature_header(
        body.decode(), WEBHOOK_SECRET, stamp
    )
