"""Stripe behind the :class:`~app.payments.gateway.PaymentGateway` protocol: the only module that imports ``stripe``.

Every write carries the caller's idempotency key, so a retried request (ours or the SDK's) is answered with the
first result instead of charging or refunding twice. We compute VAT ourselves and pass gross amounts; Stripe
neither adds tax nor issues invoices of its own in payment mode: our invoice is the legal document.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe
from stripe.params import RefundCreateParams
from stripe.params.checkout import (
    SessionCreateParams,
    SessionCreateParamsLineItem,
    SessionCreateParamsLineItemPriceData,
    SessionCreateParamsLineItemPriceDataProductData,
)

from app.config import Settings
from app.payments.balance import BalanceTransaction, balance_transaction
from app.payments.gateway import (
    CheckoutRequest,
    CheckoutSession,
    GatewayError,
    InvalidWebhook,
    Refund,
    WebhookEvent,
    from_minor_units,
    to_minor_units,
)

WEBHOOK_TOLERANCE_SECONDS = 300
STRIPE_LOCALES = {"de": "de", "en": "en"}
STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
CONFLICT = 409
PAGE_SIZE = 100  # Stripe's largest page


class StripeGateway:
    """Checkout Sessions, refunds, the customer portal and signed webhooks, over Stripe's async API."""

    name = "stripe"

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str | None,
        api_base: str | None = None,
        timeout: float = 20.0,
        max_network_retries: int = 2,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            http_client=self._http,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries,
        )

    async def aclose(self) -> None:
        """Close the HTTP connection pool (at application shutdown)."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK

    # -- checkout ------------------------------------------------------------------------------------------

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        try:
            params = checkout_params(request)
        except ValueError as exc:
            raise GatewayError(str(exc), code="invalid_amount") from exc
        with stripe_errors():
            session = await self._client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": request.idempotency_key}
            )
        return checkout_session(session.to_dict())

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        with stripe_errors():
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        return checkout_session(session.to_dict())

    async def expire_checkout(self, session_id: str) -> CheckoutSession:
        with stripe_errors():
            session = await self._client.v1.checkout.sessions.expire_async(
                session_id, options={"idempotency_key": f"expire:{session_id}"}
            )
        return checkout_session(session.to_dict())

    # -- refunds -------------------------------------------------------------------------------------------

    async def refund(
        self,
        *,
        payment_intent_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Refund:
        try:
            minor = to_minor_units(amount, currency)
        except ValueError as exc:
            raise GatewayError(str(exc), code="invalid_amount") from exc
        if minor <= 0:
            raise GatewayError(f"a refund must be positive, not {amount} {currency.upper()}", code="invalid_amount")
        params: RefundCreateParams = {"payment_intent": payment_intent_id, "amount": minor}
        extra = dict(metadata or {})
        if reason in STRIPE_REFUND_REASONS:
            params["reason"] = reason
        elif reason:
            extra["reason"] = reason[:500]
        if extra:
            params["metadata"] = extra
        with stripe_errors():
            refund = await self._client.v1.refunds.create_async(params, {"idempotency_key": idempotency_key})
        result = refund_from(refund.to_dict())
        if result.currency != currency.upper():
            raise GatewayError(
                f"refund {result.id} is in {result.currency}, the payment was expected in {currency.upper()}",
                code="currency_mismatch",
            )
        return result

    async def retrieve_refund(self, refund_id: str) -> Refund:
        with stripe_errors():
            refund = await self._client.v1.refunds.retrieve_async(refund_id)
        return refund_from(refund.to_dict())

    # -- customers and the portal --------------------------------------------------------------------------

    async def create_customer(
        self, *, email: str, name: str | None, idempotency_key: str, metadata: Mapping[str, str] | None = None
    ) -> str:
        """A Stripe customer for one of ours; returns its ``cus_…`` id."""
        with stripe_errors():
            customer = await self._client.v1.customers.create_async(
                {"email": email, **({"name": name} if name else {}), "metadata": dict(metadata or {})},
                {"idempotency_key": idempotency_key},
            )
        return customer.id

    async def portal_url(self, *, customer_id: str, return_url: str) -> str:
        # A portal session is a short-lived link, not money: a fresh key per call only guards the SDK's retries.
        with stripe_errors():
            portal = await self._client.v1.billing_portal.sessions.create_async(
                {"customer": customer_id, "return_url": return_url},
                {"idempotency_key": f"portal:{customer_id}:{uuid.uuid4()}"},
            )
        return portal.url

    async def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        """The subscription as plain JSON (status, items with their current period, metadata)."""
        with stripe_errors():
            subscription = await self._client.v1.subscriptions.retrieve_async(subscription_id)
        return subscription.to_dict()

    async def cancel_subscription_at_period_end(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]:
        """The subscription runs to the end of the paid period and then ends (no further invoice)."""
        with stripe_errors():
            subscription = await self._client.v1.subscriptions.update_async(
                subscription_id, {"cancel_at_period_end": True}, {"idempotency_key": idempotency_key}
            )
        return subscription.to_dict()

    # -- the balance ---------------------------------------------------------------------------------------

    async def balance_transactions(self, start: datetime, end: datetime) -> list[BalanceTransaction]:
        # Payouts made since the period began are the only ones that can have swept its transactions.
        swept: dict[str, str] = {}
        for payout in await self._listed(self._client.v1.payouts, {"created": {"gte": _unix(start)}}):
            for txn in await self._listed(self._client.v1.balance_transactions, {"payout": payout["id"]}):
                swept[txn["id"]] = payout["id"]
        listed = await self._listed(
            self._client.v1.balance_transactions,
            {"created": {"gte": _unix(start), "lt": _unix(end)}, "expand": ["data.source"]},
        )
        oldest_first = [balance_transaction(data, swept.get(data["id"])) for data in reversed(listed)]
        oldest_first.sort(key=lambda txn: txn.created)
        return oldest_first

    async def balance_before(self, moment: datetime) -> dict[str, Decimal]:
        balances: dict[str, Decimal] = {}
        for data in await self._listed(self._client.v1.balance_transactions, {"created": {"lt": _unix(moment)}}):
            txn = balance_transaction(data)
            balances[txn.currency] = balances.get(txn.currency, Decimal(0)) + txn.net
        return balances

    async def _listed(self, service: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every object of a Stripe list, page after page, as plain JSON (newest first, as Stripe lists)."""
        with stripe_errors():
            page = await service.list_async({**params, "limit": PAGE_SIZE})
            return [item.to_dict() async for item in page.auto_paging_iter()]

    # -- webhooks ------------------------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        if not self._webhook_secret:
            raise InvalidWebhook("no webhook secret is configured (SMPLAT_STRIPE_WEBHOOK_SECRET)")
        if not signature_header:
            raise InvalidWebhook("missing Stripe-Signature header")
        # Stripe's own check (the HMAC over the raw body and the timestamp tolerance) that construct_event runs;
        # construct_event would then also build nested StripeObjects (~0.5 ms an event) that nothing here reads.
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature_header, self._webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(_signature_problem(str(exc))) from exc
        except ValueError as exc:  # not UTF-8
            raise InvalidWebhook(f"unparsable body: {exc}") from exc
        try:
            return webhook_event(json.loads(payload))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:  # JSON and shape errors
            raise InvalidWebhook(f"unparsable body: {exc}") from exc


def gateway_from_settings(settings: Settings) -> StripeGateway | None:
    """Stripe when a secret key is configured, else no card payments at all."""
    if not settings.stripe_secret_key:
        return None
    return StripeGateway(
        api_key=settings.stripe_secret_key,
        webhook_secret=settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base,
    )


# -- requests ----------------------------------------------------------------------------------------------


def checkout_params(request: CheckoutRequest) -> SessionCreateParams:
    """The Checkout Session we ask for: gross amounts in minor units, our order id in every object Stripe makes."""
    if not request.items:
        raise ValueError("a checkout needs at least one item")
    currency = request.currency.lower()
    metadata = {**request.metadata, "order_id": request.reference}
    line_items: list[SessionCreateParamsLineItem] = []
    for item in request.items:
        product: SessionCreateParamsLineItemPriceDataProductData = {"name": item.name}
        if item.description:
            product["description"] = item.description
        price: SessionCreateParamsLineItemPriceData = {
            "currency": currency,
            "unit_amount": to_minor_units(item.amount, request.currency),
            "product_data": product,
        }
        if request.recurring_interval:
            price["recurring"] = {"interval": request.recurring_interval}
        line_items.append({"price_data": price, "quantity": item.quantity})
    params: SessionCreateParams = {
        "mode": "subscription" if request.recurring_interval else "payment",
        "line_items": line_items,
        "client_reference_id": request.reference,
        "metadata": metadata,
        "locale": STRIPE_LOCALES.get(request.locale, "auto"),
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "automatic_tax": {"enabled": False},
    }
    if request.customer_id:
        params["customer"] = request.customer_id
    elif request.customer_email:
        params["customer_email"] = request.customer_email
    if request.recurring_interval:
        params["subscription_data"] = {"metadata": dict(metadata)}
    else:
        params["payment_intent_data"] = {"metadata": dict(metadata)}
        params["invoice_creation"] = {"enabled": False}
    return params


# -- responses ---------------------------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    """An expandable field: the id string, or the id of the expanded object."""
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return value if isinstance(value, str) else None


def _metadata(value: Any) -> dict[str, str]:
    return {str(key): str(item) for key, item in value.items()} if isinstance(value, Mapping) else {}


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int) else None


def checkout_session(data: Mapping[str, Any]) -> CheckoutSession:
    currency = str(data.get("currency") or "eur").upper()
    details = data.get("customer_details")
    email = data.get("customer_email") or (details.get("email") if isinstance(details, Mapping) else None)
    return CheckoutSession(
        id=data["id"],
        url=data.get("url"),
        status=data.get("status") or "open",
        payment_status=data.get("payment_status") or "unpaid",
        amount_total=from_minor_units(int(data.get("amount_total") or 0), currency),
        currency=currency,
        reference=data.get("client_reference_id"),
        payment_intent_id=_id(data.get("payment_intent")),
        customer_id=_id(data.get("customer")),
        subscription_id=_id(data.get("subscription")),
        metadata=_metadata(data.get("metadata")),
        mode=data.get("mode") or "payment",
        invoice_id=_id(data.get("invoice")),
        customer_email=email,
        expires_at=_timestamp(data.get("expires_at")),
    )


def refund_from(data: Mapping[str, Any]) -> Refund:
    currency = str(data.get("currency") or "eur").upper()
    return Refund(
        id=data["id"],
        amount=from_minor_units(int(data.get("amount") or 0), currency),
        currency=currency,
        status=data.get("status") or "pending",
        payment_intent_id=_id(data.get("payment_intent")),
        charge_id=_id(data.get("charge")),
        reason=data.get("reason"),
    )


def webhook_event(payload: Any) -> WebhookEvent:
    if not isinstance(payload, dict):
        raise InvalidWebhook("unparsable body: the event is not a JSON object")
    try:
        data = payload["data"]["object"]
        event_id, event_type, created = payload["id"], payload["type"], payload["created"]
    except (KeyError, TypeError) as exc:
        raise InvalidWebhook(f"unparsable body: the event has no {exc}") from exc
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(created, int)):
        raise InvalidWebhook("unparsable body: id, type or created has the wrong type")
    if not isinstance(data, dict):
        raise InvalidWebhook("unparsable body: data.object is not an object")
    return WebhookEvent(
        id=event_id, type=event_type, created=datetime.fromtimestamp(created, tz=UTC), object=data, payload=payload
    )


def _signature_problem(message: str) -> str:
    if "tolerance" in message:
        return "stale timestamp: the signature is older than 300 seconds"
    if "matching the expected signature" in message:
        return "signature does not match the body (tampered body or wrong webhook secret)"
    if "expected scheme" in message or "extract timestamp" in message:
        return "malformed Stripe-Signature header"
    return f"invalid signature: {message}"


# -- errors ------------------------------------------------------------------------------------------------


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Turn the SDK's exceptions into :class:`GatewayError` with a retry verdict."""
    try:
        yield
    except stripe.StripeError as exc:
        raise gateway_error(exc) from exc


def gateway_error(exc: stripe.StripeError) -> GatewayError:
    status = exc.http_status
    code = exc.code or (exc.error.code if exc.error is not None else None)
    message = exc.user_message or str(exc) or type(exc).__name__
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayError(f"Stripe could not be reached: {message}", retryable=True, code=code, status=status)
    if isinstance(exc, stripe.RateLimitError):
        return GatewayError(f"Stripe rate limit: {message}", retryable=True, code=code or "rate_limit", status=status)
    if isinstance(exc, stripe.IdempotencyError):
        return GatewayError(f"Stripe: {message}", code=code or "idempotency_error", status=status)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayError(f"Stripe refused our credentials: {message}", code=code, status=status)
    if isinstance(exc, stripe.CardError | stripe.InvalidRequestError):
        return GatewayError(f"Stripe refused: {message}", code=code, status=status)
    retryable = status is None or status >= 500 or status == CONFLICT
    return GatewayError(f"Stripe error: {message}", retryable=retryable, code=code, status=status)
