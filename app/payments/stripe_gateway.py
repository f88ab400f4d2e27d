"""TEMPORARY: the stripe branch owns this file; checkout_session_from moves into it at merge."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.payments.gateway import CheckoutSession


def _id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return str(value["id"])
    return str(value) if value else None


def checkout_session_from(obj: Mapping[str, Any]) -> CheckoutSession:
    """A Checkout Session object (as plain JSON) as the gateway's value."""
    currency = str(obj.get("currency") or "eur").upper()
    return CheckoutSession(
        id=str(obj["id"]),
        url=obj.get("url"),
        status=str(obj.get("status") or "open"),
        payment_status=str(obj.get("payment_status") or "unpaid"),
        amount_total=Decimal(int(obj.get("amount_total") or 0)) / 100,
        currency=currency,
        reference=obj.get("client_reference_id"),
        payment_intent_id=_id(obj.get("payment_intent")),
        customer_id=_id(obj.get("customer")),
        subscription_id=_id(obj.get("subscription")),
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
    )


def gateway_from_settings(settings: object) -> None:
    return None
