"""A loopback fake Stripe: a real HTTP server on 127.0.0.1 that the real ``stripe`` SDK talks to.

Point the app at it with ``SMPLAT_STRIPE_API_BASE`` (see :meth:`FakeStripe.settings_env`); nothing else in the
app knows it is fake. It speaks Stripe's form encoding, checks the API key, honours idempotency keys, answers in
Stripe's JSON shapes and error format, serves a hosted Checkout page (``/checkout/{id}``: "Demo payment — no money
moves", Pay / Cancel) and a customer portal page, and delivers webhooks signed exactly as Stripe signs them.

In tests::

    with FakeStripe(api_key="sk_test_x", webhook_secret="whsec_x", webhook_url=receiver_url) as fake:
        gateway = StripeGateway(api_key="sk_test_x", webhook_secret="whsec_x", api_base=fake.base_url)
        session = await gateway.create_checkout(request)
        fake.pay(session.id)          # what the Pay button does: completes, charges, delivers signed webhooks

Events made by API calls (a refund's ``charge.refunded``, an expiry) are delivered from a background thread, as
Stripe does after answering; ``wait_for_deliveries()`` waits for them. Events of :meth:`pay` and the hosted pages
are delivered before returning, so the success page finds the webhook already handled.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import httpx
import structlog

from app.config import Settings
from app.sandbox import stripe_balance as balance
from app.sandbox import stripe_billing as billing
from app.sandbox import stripe_checkout as checkout
from app.sandbox.serving import ServingThread, Startable
from app.sandbox.stripe_api import ApiResponse, InjectedFailure, RecordedRequest, StripeApi
from app.sandbox.stripe_http import FakeStripeServer
from app.sandbox.stripe_state import Happening, StripeState
from app.sandbox.stripe_wire import API_VERSION, new_id, now, public, signature_header

log = structlog.get_logger(__name__)

DELIVERY_TIMEOUT = 10.0
SUCCESS = range(200, 300)


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery: the event, how many attempts it took, the last status (None: no connection)."""

    event_id: str
    type: str
    attempts: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status in SUCCESS


class FakeStripe(Startable):
    """The fake's lifecycle, its inspectable state and the Python API tests and the demo use."""

    def __init__(
        self,
        *,
        api_key: str = "sk_test_sandbox",
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        state_path: Path | None = None,
        delivery_attempts: int = 4,
        retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0),
    ) -> None:
        if not api_key.startswith("sk_test_"):
            raise ValueError("the fake Stripe takes test-mode keys only (sk_test_…)")
        self.api_key = api_key
        self.webhook_secret = webhook_secret or f"whsec_{secrets.token_hex(16)}"
        self.webhook_url = webhook_url
        self.delivery_attempts = max(1, delivery_attempts)
        self.retry_delays = retry_delays
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self._host, self._port, self._public_url = host, port, public_url
        self._state_path = state_path
        self.lock = threading.RLock()
        self.state = StripeState()
        self._api = StripeApi(self.state, api_key, self.lock)
        self._serving: ServingThread | None = None
        self._delivering: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._outbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._serving is not None:
            return self
        if self._state_path is not None and self._state_path.exists():
            self.state.load(json.loads(self._state_path.read_text(encoding="utf-8")))
        self._http = httpx.Client(timeout=DELIVERY_TIMEOUT)
        self._serving = ServingThread(FakeStripeServer((self._host, self._port), self), "fake-stripe-http")
        self._delivering = threading.Thread(target=self._deliver_outbox, name="fake-stripe-webhooks", daemon=True)
        self._delivering.start()
        log.info("sandbox stripe started", base_url=self.base_url, webhook_url=self.webhook_url)
        return self

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is None:
            return
        serving.close()
        self._outbox.put(None)
        if self._delivering is not None:
            self._delivering.join(timeout=5)
            self._delivering = None
        if self._http is not None:
            self._http.close()
            self._http = None
        log.info("sandbox stripe stopped")

    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError("the fake Stripe is not running; call start() first")
        return self._serving.port

    @property
    def base_url(self) -> str:
        """Where the SDK (``base_addresses={"api": …}``) and browsers reach the fake."""
        return (self._public_url or f"http://{self._host}:{self.port}").rstrip("/")

    def settings_env(self) -> dict[str, str]:
        """The environment that points the app at this fake."""
        return {
            "SMPLAT_STRIPE_SECRET_KEY": self.api_key,
            "SMPLAT_STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "SMPLAT_STRIPE_API_BASE": self.base_url,
        }

    def configure(self, settings: Settings) -> Settings:
        """``settings`` pointing at this fake (for apps built in-process)."""
        return dataclasses.replace(
            settings,
            stripe_secret_key=self.api_key,
            stripe_webhook_secret=self.webhook_secret,
            stripe_api_base=self.base_url,
        )

    def reset(self) -> None:
        """Forget every object, request, event, delivery and injected failure (between tests)."""
        self.wait_for_deliveries()
        with self.lock:
            self.state.clear()
            self._api.reset()
            self.events.clear()
            self.deliveries.clear()

    # -- inspectable state ---------------------------------------------------------------------------------

    @property
    def sessions(self) -> dict[str, dict[str, Any]]:
        return self.state.sessions

    @property
    def refunds(self) -> dict[str, dict[str, Any]]:
        return self.state.refunds

    @property
    def payment_intents(self) -> dict[str, dict[str, Any]]:
        return self.state.payment_intents

    @property
    def charges(self) -> dict[str, dict[str, Any]]:
        return self.state.charges

    @property
    def customers(self) -> dict[str, dict[str, Any]]:
        return self.state.customers

    @property
    def subscriptions(self) -> dict[str, dict[str, Any]]:
        return self.state.subscriptions

    @property
    def invoices(self) -> dict[str, dict[str, Any]]:
        return self.state.invoices

    @property
    def balance_transactions(self) -> dict[str, dict[str, Any]]:
        return self.state.balance_transactions

    @property
    def payouts(self) -> dict[str, dict[str, Any]]:
        return self.state.payouts

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request: method, path, idempotency key, status, decoded parameters."""
        return self._api.requests

    @property
    def refund_status(self) -> str:
        return self._api.refund_status

    @refund_status.setter
    def refund_status(self, status: str) -> None:
        """The status new refunds get ("succeeded", or "pending" / "failed" to test those paths)."""
        self._api.refund_status = status

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        *,
        status: int = 500,
        message: str = "An unknown error occurred",
        code: str | None = None,
        error_type: str = "api_error",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching API requests with this error instead of handling them."""
        with self.lock:
            self._api.failures.append(
                InjectedFailure(method.upper(), path_prefix, status, message, code, error_type, times)
            )

    # -- what customers and time do ------------------------------------------------------------------------

    def pay(self, session_id: str, *, deliver: bool = True) -> list[dict[str, Any]]:
        """The Pay button: complete the session, charge, (subscription: customer, subscription, invoice), and
        deliver ``checkout.session.completed`` (+ ``invoice.paid``) before returning the events."""
        return self._happen(lambda: billing.complete_session(self.state, session_id).happenings, deliver)

    def expire(self, session_id: str, *, deliver: bool = True) -> list[dict[str, Any]]:
        """The session times out (Stripe's 24 h): ``checkout.session.expired``."""
        return self._happen(lambda: checkout.expire_session(self.state, session_id).happenings, deliver)

    def renew_subscription(
        self, subscription_id: str, *, paid: bool = True, deliver: bool = True
    ) -> list[dict[str, Any]]:
        """The next period: a new invoice paid (``invoice.paid``) or declined (``invoice.payment_failed``)."""
        return self._happen(lambda: billing.renew(self.state, subscription_id, paid=paid).happenings, deliver)

    def cancel_subscription(self, subscription_id: str, *, deliver: bool = True) -> list[dict[str, Any]]:
        """The customer cancels in the portal: ``customer.subscription.deleted``."""
        return self._happen(lambda: billing.cancel(self.state, subscription_id).happenings, deliver)

    def create_payment(
        self, amount: int, currency: str = "eur", *, metadata: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """A succeeded payment intent (with its charge) made without Checkout, e.g. for seeded demo orders."""
        with self.lock:
            intent, _charge = self.state.charge(
                amount=amount,
                currency=currency.lower(),
                customer=None,
                email=None,
                metadata=dict(metadata or {}),
                description=None,
            )
            self._save()
            return dict(public(intent))

    def set_clock(self, moment: datetime | None) -> None:
        """Charges and refunds from now on happen at ``moment`` (None: the real time again)."""
        with self.lock:
            self.state.clock = now if moment is None else (lambda: int(moment.timestamp()))

    def pay_out(self, at: datetime | None = None) -> list[dict[str, Any]]:
        """Stripe's daily payout: the balance available at ``at`` (default: now) goes to the bank."""
        with self.lock:
            payouts = balance.pay_out(self.state, self.state.clock() if at is None else int(at.timestamp()))
            self._save()
            return [dict(public(payout)) for payout in payouts]

    def _happen(self, action: Any, deliver: bool) -> list[dict[str, Any]]:
        with self.lock:
            happenings: list[Happening] = action()
            events = self._announce(happenings)
            self._save()
        if deliver and self.webhook_url:
            for event in events:
                self._deliver_quietly(event)
        return events

    # -- events and webhooks -------------------------------------------------------------------------------

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        """The ``Stripe-Signature`` header for ``payload``: ``t=<unix>,v1=<HMAC-SHA256>``."""
        return signature_header(self.webhook_secret, payload, timestamp)

    def event(
        self,
        type: str,
        obj: Mapping[str, Any],
        previous_attributes: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An event as Stripe sends it (not recorded, not delivered): for out-of-order or made-up deliveries."""
        data: dict[str, Any] = {"object": public(dict(obj))}
        if previous_attributes:
            data["previous_attributes"] = dict(previous_attributes)
        return {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }

    def signed_request(self, event: Mapping[str, Any], timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a webhook request, to post with any client (e.g. Litestar's test client)."""
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.sign(body, timestamp),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        return body, headers

    def deliver(self, event: Mapping[str, Any], *, attempts: int | None = None) -> httpx.Response:
        """POST a signed event to ``webhook_url``, retrying on non-2xx and connection errors; returns the last
        response (raises the connection error when the receiver never answered)."""
        if not self.webhook_url:
            raise RuntimeError("the fake Stripe has no webhook_url to deliver to")
        tries = attempts or self.delivery_attempts
        response: httpx.Response | None = None
        error: httpx.TransportError | None = None
        attempt = 0
        client = self._http or httpx.Client(timeout=DELIVERY_TIMEOUT)
        try:
            for attempt in range(1, tries + 1):
                body, headers = self.signed_request(event)  # signed afresh per attempt, as Stripe does
                try:
                    response, error = client.post(self.webhook_url, content=body, headers=headers), None
                except httpx.TransportError as exc:
                    response, error = None, exc
                if response is not None and response.status_code in SUCCESS:
                    break
                if attempt < tries:
                    time.sleep(self._retry_delay(attempt))
        finally:
            if client is not self._http:
                client.close()
        record = Delivery(
            str(event.get("id")),
            str(event.get("type")),
            attempt,
            response.status_code if response is not None else None,
            None if error is None else f"{type(error).__name__}: {error}",
        )
        with self.lock:
            self.deliveries.append(record)
        if record.ok:
            log.info("sandbox stripe webhook delivered", event_id=record.event_id, type=record.type, attempts=attempt)
        else:
            log.warning(
                "sandbox stripe webhook not accepted",
                event_id=record.event_id,
                type=record.type,
                status=record.status,
                error=record.error,
                attempts=attempt,
            )
        if response is None:
            assert error is not None
            raise error
        return response

    def _retry_delay(self, attempt: int) -> float:
        if not self.retry_delays:
            return 0.0
        return self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until the background deliveries (events of API calls) are done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _announce(self, happenings: list[Happening]) -> list[dict[str, Any]]:
        events = [
            self.event(happening.type, happening.object, happening.previous_attributes) for happening in happenings
        ]
        self.events.extend(events)
        return events

    def _deliver_quietly(self, event: dict[str, Any]) -> None:
        try:
            self.deliver(event)
        except httpx.TransportError:
            pass  # deliver() has logged it; the fake carries on, as Stripe does
        except Exception as exc:  # the fake must never crash over a webhook
            log.warning(
                "sandbox stripe webhook undeliverable", event_id=event["id"], type=event["type"], error=repr(exc)
            )

    def _enqueue(self, events: list[dict[str, Any]]) -> None:
        if not self.webhook_url:
            return
        with self._idle:
            self._pending += len(events)
        for event in events:
            self._outbox.put(event)

    def _deliver_outbox(self) -> None:
        while (event := self._outbox.get()) is not None:
            try:
                self._deliver_quietly(event)
            except Exception:  # never let the delivery thread die
                log.exception("sandbox stripe delivery thread error")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _save(self) -> None:
        if self._state_path is not None:
            self._state_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._state_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.state.dump()), encoding="utf-8")
            temporary.replace(self._state_path)

    # -- requests from the HTTP server ---------------------------------------------------------------------

    def handle_api(self, method: str, path: str, query: str, body: str, headers: Mapping[str, str]) -> ApiResponse:
        response = self._api.handle(method, path, query, body, headers, self.base_url)
        if response.happenings:
            with self.lock:
                events = self._announce(response.happenings)
            self._enqueue(events)
        if method != "GET" and response.status in SUCCESS:
            with self.lock:
                self._save()
        return response
