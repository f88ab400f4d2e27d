"""The fake Stripe (started once per module), a tiny webhook receiver, and the real gateway pointed at the fake.

These tests need no database.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.config import Settings
from app.payments.gateway import CheckoutItem, CheckoutRequest
from app.payments.stripe_gateway import StripeGateway
from app.sandbox import FakeStripe
from app.sandbox.serving import ServingThread

API_KEY = "sk_test_contract_" + "k" * 16
BASE = "http://testserver.local"  # the shop's address under the test client
SAME_ORIGIN = {"origin": BASE, "sec-fetch-site": "same-origin"}  # what a browser sends with our own forms
WEBHOOK_SECRET = "whsec_contract_" + "s" * 16


@dataclass(frozen=True)
class ReceivedWebhook:
    body: bytes
    signature: str | None

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """Records every POST; answers with the queued statuses first, then 200."""

    def __init__(self) -> None:
        self.received: list[ReceivedWebhook] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(ReceivedWebhook(body, self.headers.get("Stripe-Signature")))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._serving: ServingThread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stripe"

    def types(self) -> list[str]:
        return [item.event["type"] for item in self.received]

    def start(self) -> WebhookReceiver:
        self._serving = ServingThread(self._server, "webhook-receiver")
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def fake(receiver: WebhookReceiver) -> Iterator[FakeStripe]:
    with FakeStripe(
        api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, webhook_url=receiver.url, retry_delays=(0.01,)
    ) as fake:
        yield fake


@pytest.fixture(autouse=True)
def fresh(fake: FakeStripe, receiver: WebhookReceiver) -> None:
    fake.reset()
    fake.webhook_url = receiver.url
    receiver.received.clear()
    receiver.statuses.clear()


@pytest.fixture(scope="module")
async def gateway(fake: FakeStripe) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=fake.base_url)
    yield gateway
    await gateway.aclose()


def checkout_request(
    reference: str = "1001",
    *,
    key: str | None = None,
    items: tuple[CheckoutItem, ...] = (CheckoutItem("1000 Instagram likes", Decimal("12.34"), 2, "instagram.com/p/x"),),
    email: str | None = "kunde@example.com",
    customer_id: str | None = None,
    locale: str = "de",
    recurring_interval: str | None = None,
) -> CheckoutRequest:
    return CheckoutRequest(
        reference=reference,
        currency="EUR",
        items=items,
        customer_email=None if customer_id else email,
        customer_id=customer_id,
        success_url="http://shop.test/checkout/success?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://shop.test/checkout/cancel",
        idempotency_key=key or f"checkout:{reference}:1",
        locale=locale,
        metadata={"order_number": f"SMP-2026-{int(reference):06d}"},
        recurring_interval=recurring_interval,
    )


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    """A fake Stripe for the shop (no webhook receiver: tests post its signed events themselves)."""
    with FakeStripe(api_key="sk_test_shop") as fake:
        yield fake


@pytest.fixture
async def shop(settings: Settings, fake_stripe: FakeStripe) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The whole app on the test database, paying through ``fake_stripe`` (reset for each test)."""
    from app.asgi import create_app

    fake_stripe.reset()
    async with AsyncTestClient(app=create_app(fake_stripe.configure(settings)), base_url=BASE) as client:
        yield client
