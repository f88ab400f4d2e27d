"""The payment gateway: what the shop asks of a payment processor, in the shop's own terms.

Orders, the webhook endpoint and the storefront speak only these types. Stripe is the first implementation
(``app/payments/stripe_gateway.py``, the one module that imports ``stripe``); a second method must fit behind the
same protocol without touching orders, fulfillment or invoicing.

Amounts are ``Decimal`` in major units (``Decimal("12.34")`` EUR); processors count minor units (1234 cents).
:func:`to_minor_units` converts exactly and refuses amounts with digits below the currency's smallest unit:
rounding belongs to ``app.money`` and the VAT engine, never to the wire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

# Currencies whose smallest unit is not the hundredth (Stripe's list; all others have two decimals).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (2 for EUR, 0 for JPY)."""
    code = currency.upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("12.34")`` EUR -> 1234; raises ``ValueError`` for sub-cent digits instead of rounding."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {amount}")
    exponent = currency_exponent(currency)
    try:
        minor = amount.scaleb(exponent)
        whole = minor.to_integral_value()
    except InvalidOperation as exc:  # pragma: no cover - only for absurd exponents
        raise ValueError(f"not an amount of money: {amount}") from exc
    if minor != whole:
        raise ValueError(
            f"{amount} {currency.upper()} has digits below the smallest unit of the currency; round it first"
        )
    return int(whole)


def from_minor_units(minor: int, currency: str) -> Decimal:
    """1234 cents EUR -> ``Decimal("12.34")`` (always with the currency's number of decimals)."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"minor units must be an int, not {type(minor).__name__}")
    return Decimal(minor).scaleb(-currency_exponent(currency))


@dataclass(frozen=True)
class CheckoutItem:
    name: str
    amount: Decimal  # gross unit amount in major units, exact cents
    quantity: int = 1
    description: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str  # our order id as text -> client_reference_id and metadata["order_id"]
    currency: str
    items: Sequence[CheckoutItem]
    customer_email: str | None
    customer_id: str | None  # the processor's customer id when we know it (then no customer_email is sent)
    success_url: str  # contains {CHECKOUT_SESSION_ID}
    cancel_url: str
    idempotency_key: str
    locale: str = "de"
    metadata: Mapping[str, str] = field(default_factory=dict)
    recurring_interval: str | None = None  # "month" => a subscription that renews at that interval


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # "open" | "complete" | "expired"
    payment_status: str  # "paid" | "unpaid" | "no_payment_required"
    amount_total: Decimal  # major units
    currency: str  # upper-case
    reference: str | None  # client_reference_id
    payment_intent_id: str | None
    customer_id: str | None
    subscription_id: str | None
    metadata: Mapping[str, str]
    mode: str = "payment"  # "payment" | "subscription"
    invoice_id: str | None = None  # the processor's first invoice of a subscription
    customer_email: str | None = None  # as entered or confirmed at checkout
    expires_at: datetime | None = None  # UTC


@dataclass(frozen=True)
class Refund:
    id: str
    amount: Decimal
    currency: str
    status: str  # "succeeded" | "pending" | "failed"
    payment_intent_id: str | None
    charge_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    created: datetime  # UTC
    object: Mapping[str, Any]  # data.object as plain dicts/lists
    payload: Mapping[str, Any]  # the whole event as plain JSON


class InvalidWebhook(Exception):
    """The webhook cannot be trusted or read: bad or missing signature, stale timestamp, unparsable body."""


class GatewayError(Exception):
    """The processor refused the request or could not be reached.

    ``retryable`` says whether sending the same request again (same idempotency key) may succeed: true for
    connection failures, timeouts, rate limits and the processor's own 5xx; false for refusals (invalid request,
    card declined, over-refund, wrong API key). ``code`` is the processor's error code when it gave one.
    """

    def __init__(self, message: str, *, retryable: bool = False, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.status = status

    def __repr__(self) -> str:
        return f"GatewayError({str(self)!r}, retryable={self.retryable}, code={self.code!r}, status={self.status})"


class PaymentGateway(Protocol):
    name: str

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession: ...

    async def expire_checkout(self, session_id: str) -> CheckoutSession: ...

    async def refund(
        self,
        *,
        payment_intent_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Refund: ...

    async def portal_url(self, *, customer_id: str, return_url: str) -> str: ...

    async def cancel_subscription_at_period_end(
        self, subscription_id: str, *, idempotency_key: str
    ) -> Mapping[str, Any]: ...

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent: ...

    async def aclose(self) -> None:
        """Release the connections (the app calls it when it shuts down)."""
        ...
