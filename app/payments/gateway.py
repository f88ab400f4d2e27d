"""TEMPORARY copy of the interface (the stripe branch owns this file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class CheckoutItem:
    name: str
    amount: Decimal
    quantity: int = 1
    description: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str
    currency: str
    items: Sequence[CheckoutItem]
    customer_email: str | None
    customer_id: str | None
    success_url: str
    cancel_url: str
    idempotency_key: str
    locale: str = "de"
    metadata: Mapping[str, str] = field(default_factory=dict)
    recurring_interval: str | None = None


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str
    payment_status: str
    amount_total: Decimal
    currency: str
    reference: str | None
    payment_intent_id: str | None
    customer_id: str | None
    subscription_id: str | None
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class Refund:
    id: str
    amount: Decimal
    currency: str
    status: str
    payment_intent_id: str | None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    created: datetime
    object: Mapping[str, Any]
    payload: Mapping[str, Any]


class InvalidWebhook(Exception):
    pass


class GatewayError(Exception):
    retryable: bool = False
    code: str | None = None


class PaymentGateway(Protocol):
    name: str

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...
    async def retrieve_checkout(self, session_id: str) -> CheckoutSession: ...
    async def expire_checkout(self, session_id: str) -> CheckoutSession: ...
    async def refund(
        self, *, payment_intent_id: str, amount: Decimal, currency: str, idempotency_key: str, reason: str | None = None
    ) -> Refund: ...
    async def portal_url(self, *, customer_id: str, return_url: str) -> str: ...
    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent: ...
