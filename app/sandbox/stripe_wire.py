"""Stripe's wire format for the fake: form-encoded requests, ids, error bodies and webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

# The API version the fake claims in events; the SDK pins the same one.
API_VERSION = "2026-10-28.endive"

# Stripe's minimum charge per currency (minor units) for the currencies we may sell in.
MINIMUM_CHARGE = {"eur": 50, "usd": 50, "gbp": 30, "chf": 50}
ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"})

# Keys whose nested values are a free-form map even when the keys look like list indexes.
FREE_FORM_KEYS = frozenset({"metadata"})


class ApiError(Exception):
    """A refusal in Stripe's format: ``{"error": {"type", "message", "code", "param"}}`` with an HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(kind: str, object_id: str, param: str) -> ApiError:
    return ApiError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def public(value: Any) -> Any:
    """A deep copy without the fake's private bookkeeping (keys starting with ``_``), as Stripe would show it."""
    if isinstance(value, dict):
        return {key: public(item) for key, item in value.items() if not key.startswith("_")}
    if isinstance(value, list):
        return [public(item) for item in value]
    return value


def to_decimal(amount: int, currency: str) -> Decimal:
    """Minor units as a major-unit Decimal (1234 eur -> 12.34)."""
    return Decimal(amount) if currency.lower() in ZERO_DECIMAL else Decimal(amount).scaleb(-2)


def new_id(prefix: str) -> str:
    """A Stripe-like test-mode id: ``cs_test_a1B2…`` for sessions, ``pi_3P…`` for others."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    body = "".join(secrets.choice(alphabet) for _ in range(24))
    return f"{prefix}_test_{body}" if prefix == "cs" else f"{prefix}_{body}"


def now() -> int:
    return int(time.time())


def decode_form(body: str) -> dict[str, Any]:
    """``line_items[0][price_data][unit_amount]=1234&metadata[order_id]=7`` -> nested dicts and lists of strings."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        path = _key_path(key)
        node = root
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[path[-1]] = value
    decoded: dict[str, Any] = _lists(root)
    return decoded


def _key_path(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    parts = [head]
    while rest:
        part, _, rest = rest.partition("]")
        parts.append(part)
        rest = rest.removeprefix("[")
    return parts


def _lists(node: dict[str, Any], key: str | None = None) -> Any:
    """Maps keyed ``0, 1, 2…`` become lists, as Stripe reads them (``expand[]`` included); metadata stays a map."""
    converted = {name: _lists(value, name) if isinstance(value, dict) else value for name, value in node.items()}
    if key in FREE_FORM_KEYS or not converted:
        return converted
    if all(name == "" for name in converted):  # `expand[]=a`
        return list(converted.values())
    if all(name.isdigit() for name in converted):
        return [converted[name] for name in sorted(converted, key=int)]
    return converted


def integer(value: Any, param: str, *, minimum: int = 0) -> int:
    """A form value as Stripe's non-negative integer, or Stripe's refusal naming the parameter."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid integer: {value}", param=param) from None
    if number < minimum:
        kind = "positive" if minimum > 0 else "non-negative"
        raise ApiError(400, f"Invalid {kind} integer", param=param)
    return number


def major(amount: int, currency: str) -> str:
    """1234, "eur" -> "€12.34" for messages and the hosted page."""
    symbol = {"eur": "€", "usd": "$", "gbp": "£"}.get(currency.lower(), currency.upper() + " ")
    return f"{symbol}{to_decimal(amount, currency)}"


def signature_header(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, exactly as Stripe signs webhooks."""
    stamp = now() if timestamp is None else timestamp
    signed = f"{stamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"
