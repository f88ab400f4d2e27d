"""What an SMM panel answers over API v2, read leniently and checked strictly.

Panels drift: numbers come as strings or numbers (``"0.90"``, ``0.9``, ``"50"``, ``50``), booleans as ``1`` or
``"true"``, statuses in odd case. Those shapes are accepted; anything that does not fit the protocol (a missing
field, a word where a number belongs, a list where an object belongs) raises :class:`MalformedAnswer` naming
what was wrong. Every result and every error keeps the raw response text, so callers can store it on events.

The error classes are what dispatch decides on (see the table in :mod:`app.providers.smm_v2`):

- :class:`NotSent`: the request provably never reached the provider; safe to send again.
- :class:`OutcomeUnknown` (and :class:`MalformedAnswer`): it may have been received; never re-send blindly.
- :class:`InsufficientFunds`: the provider refused for lack of balance.
- :class:`ProviderRefused`: any other definitive ``{"error": "…"}`` answer.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from app.providers.error_kinds import ProviderErrorKind, error_kind

UPSTREAM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RAW_EXCERPT = 200  # characters of a response quoted in an error message (the whole text stays on ``raw``)

# -- errors ------------------------------------------------------------------------------------------------------


class SmmV2Error(Exception):
    """A call to a provider that gave no usable answer. ``str()`` is one line, safe to log and show."""

    def __init__(self, reason: str, *, action: str, raw: str | None = None, http_status: int | None = None) -> None:
        self.reason = reason
        self.action = action
        self.raw = raw  # the response text, when there was one
        self.http_status = http_status
        # Multi-id calls are split into batches of 100: what the batches before the failing one answered.
        self.partial: dict[str, Any] = {}
        super().__init__(f"{action}: {reason}")


class NotSent(SmmV2Error):
    """The request never reached the provider (connection refused, DNS failure, connect timeout): send again."""


class OutcomeUnknown(SmmV2Error):
    """The request may have been received (read timeout, 5xx, dropped connection, unreadable answer).

    For ``add`` the order may exist at the provider: never send it again blindly.
    """


class MalformedAnswer(OutcomeUnknown):
    """The provider answered, but not in API v2's shape (HTML, wrong types, missing fields)."""


class ProviderError(SmmV2Error):
    """A definitive refusal from the provider: ``{"error": "…"}``; ``provider_message`` is its text."""

    def __init__(
        self, provider_message: str, *, action: str, raw: str | None = None, http_status: int | None = None
    ) -> None:
        self.provider_message = provider_message
        super().__init__(f"the provider refused: {provider_message}", action=action, raw=raw, http_status=http_status)


class InsufficientFunds(ProviderError):
    """Not enough balance at the provider ("Not enough funds on balance", "Low balance")."""


class ProviderRefused(ProviderError):
    """Any other definitive error: bad link, unknown service, an active order for the link, a bad key…"""


def classify_error(message: str) -> type[ProviderError]:
    """The error class for a provider's ``{"error": message}``."""
    return InsufficientFunds if error_kind(message) is ProviderErrorKind.LOW_BALANCE else ProviderRefused


def refusal(message: str, *, action: str, raw: str | None = None, http_status: int | None = None) -> ProviderError:
    return classify_error(message)(message, action=action, raw=raw, http_status=http_status)


def excerpt(raw: str) -> str:
    text = " ".join(raw.split())
    return text if len(text) <= RAW_EXCERPT else text[:RAW_EXCERPT] + "…"


# -- scalars -----------------------------------------------------------------------------------------------------


class ShapeError(ValueError):
    """A value that does not fit; the caller wraps it into :class:`MalformedAnswer` with the action and raw text."""


def _number_text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ShapeError(f"{what} is not a number: {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ShapeError(f"{what} is not a finite number: {value!r}")
    return value.strip() if isinstance(value, str) else repr(value)


def as_decimal(value: Any, what: str) -> Decimal:
    """``"0.90"``, ``0.9``, ``"1"``, ``1`` → Decimal; floats through their shortest text (``0.1`` → ``0.1``)."""
    text = _number_text(value, what)
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ShapeError(f"{what} is not a number: {value!r}") from exc
    if not number.is_finite():
        raise ShapeError(f"{what} is not a finite number: {value!r}")
    return number


def as_count(value: Any, what: str, *, minimum: int | None = None) -> int:
    """A whole number: ``50``, ``"50"``, ``"50.00"``, ``50.0``; ``"50.5"`` is refused."""
    number = as_decimal(value, what)
    if number != number.to_integral_value():
        raise ShapeError(f"{what} is not a whole number: {value!r}")
    count = int(number)
    if minimum is not None and count < minimum:
        raise ShapeError(f"{what} is less than {minimum}: {value!r}")
    return count


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_optional_decimal(value: Any, what: str) -> Decimal | None:
    return None if _blank(value) else as_decimal(value, what)


def as_optional_count(value: Any, what: str) -> int | None:
    return None if _blank(value) else as_count(value, what)


_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}


def as_bool(value: Any, what: str) -> bool:
    """``true``/``false``, ``1``/``0`` and their strings; missing (None) is False."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ShapeError(f"{what} is not a yes/no value: {value!r}")


def as_id(value: Any, what: str) -> str:
    """An upstream id (order, refill, service) as text: ``23501`` or ``"23501"``; letters, digits, ``-``, ``_``."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ShapeError(f"{what} is not an id: {value!r}")
    if not UPSTREAM_ID.match(text):
        raise ShapeError(f"{what} is not an id: {value!r}")
    return text


def as_text(value: Any, what: str, *, required: bool = True) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ShapeError(f"{what} is missing")
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{what} is not text: {value!r}")
    return value.strip()


def _status_key(value: str) -> str:
    return re.sub(r"[\s_-]+", "", value.lower())


class UpstreamOrderStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    PROCESSING = "Processing"
    PARTIAL = "Partial"
    COMPLETED = "Completed"
    CANCELED = "Canceled"

    @property
    def is_final(self) -> bool:
        return self in (UpstreamOrderStatus.PARTIAL, UpstreamOrderStatus.COMPLETED, UpstreamOrderStatus.CANCELED)


class UpstreamRefillStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"

    @property
    def is_final(self) -> bool:
        return self in (UpstreamRefillStatus.COMPLETED, UpstreamRefillStatus.REJECTED)


_ORDER_STATUSES = {_status_key(s.value): s for s in UpstreamOrderStatus} | {"cancelled": UpstreamOrderStatus.CANCELED}
_REFILL_STATUSES = {_status_key(s.value): s for s in UpstreamRefillStatus}


def as_order_status(value: Any, what: str = "status") -> UpstreamOrderStatus:
    """``"In progress"``, ``"in_progress"``, ``"INPROGRESS"``, ``"Cancelled"`` … → the status; others refused."""
    if isinstance(value, str) and _status_key(value) in _ORDER_STATUSES:
        return _ORDER_STATUSES[_status_key(value)]
    raise ShapeError(f"{what} is not an order status: {value!r}")


def as_refill_status(value: Any, what: str = "status") -> UpstreamRefillStatus:
    if isinstance(value, str) and _status_key(value) in _REFILL_STATUSES:
        return _REFILL_STATUSES[_status_key(value)]
    raise ShapeError(f"{what} is not a refill status: {value!r}")


# -- results -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedService:
    """One entry of ``services``: rate per 1000 (per package for packages) in the provider's currency."""

    service_id: str
    name: str
    rate: Decimal
    min_quantity: int
    max_quantity: int
    type: str = "Default"
    category: str | None = None
    refill: bool = False
    cancel: bool = False


@dataclass(frozen=True)
class ServiceList:
    services: tuple[ListedService, ...]
    raw: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class PlacedOrder:
    """``add`` succeeded: the provider's order id."""

    order_id: str
    raw: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class OrderStatus:
    order_id: str
    status: UpstreamOrderStatus
    charge: Decimal | None = None
    start_count: int | None = None
    remains: int | None = None
    currency: str | None = None
    raw: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class ItemError:
    """One id of a multi-id call that the provider answered with an error (e.g. "Incorrect order ID")."""

    id: str
    message: str
    raw: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class RefillRequested:
    order_id: str
    refill_id: str
    raw: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class RefillState:
    refill_id: str
    status: UpstreamRefillStatus
    raw: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class CancelRequested:
    order_id: str
    raw: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    currency: str | None = None
    raw: str = field(default="", repr=False, compare=False)


# -- parsing answers ---------------------------------------------------------------------------------------------


def decode(raw: str, action: str, http_status: int | None = None) -> Any:
    """The JSON of an answer; an error answer (``{"error": "…"}``) raises its class; HTML and garbage are malformed."""
    try:
        data = json.loads(raw)
    except ValueError:
        reason = "the answer is empty" if not raw.strip() else f"the answer is not JSON: {excerpt(raw)}"
        raise MalformedAnswer(reason, action=action, raw=raw, http_status=http_status) from None
    message = error_message(data)
    if message is not None:
        raise refusal(message, action=action, raw=raw, http_status=http_status)
    return data


def error_message(data: Any) -> str | None:
    """The text of ``{"error": …}`` (any JSON value becomes text); None when there is no (or an empty) error."""
    if not isinstance(data, dict) or "error" not in data:
        return None
    value = data["error"]
    if value is None or value is False or value == "":
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.strip() or None


def _fragment(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


T = TypeVar("T")


def checked(action: str, raw: str, parse: Callable[[], T]) -> T:
    """Run a parser; a :class:`ShapeError` becomes :class:`MalformedAnswer` with the action and the raw text."""
    try:
        return parse()
    except ShapeError as exc:
        raise MalformedAnswer(f"unexpected answer: {exc}", action=action, raw=raw) from None


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ShapeError(f"{what} is not an object: {excerpt(_fragment(data))}")
    return data


def _list(data: Any, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise ShapeError(f"{what} is not a list: {excerpt(_fragment(data))}")
    return data


def parse_services(data: Any, raw: str = "") -> ServiceList:
    def parse() -> ServiceList:
        services = []
        for position, entry in enumerate(_list(data, "the service list")):
            item = _object(entry, f"service entry {position + 1}")
            service_id = as_id(item.get("service"), f"service entry {position + 1}: service")
            what = f"service {service_id}"
            listed = ListedService(
                service_id=service_id,
                name=as_text(item.get("name"), f"{what}: name") or "",
                rate=as_decimal(item.get("rate"), f"{what}: rate"),
                min_quantity=as_count(item.get("min"), f"{what}: min", minimum=0),
                max_quantity=as_count(item.get("max"), f"{what}: max", minimum=0),
                type=as_text(item.get("type"), f"{what}: type", required=False) or "Default",
                category=as_text(item.get("category"), f"{what}: category", required=False),
                refill=as_bool(item.get("refill"), f"{what}: refill"),
                cancel=as_bool(item.get("cancel"), f"{what}: cancel"),
            )
            if listed.rate < 0:
                raise ShapeError(f"{what}: rate is negative: {item.get('rate')!r}")
            if listed.min_quantity > listed.max_quantity:
                raise ShapeError(f"{what}: min {listed.min_quantity} is more than max {listed.max_quantity}")
            services.append(listed)
        seen: set[str] = set()
        for listed in services:
            if listed.service_id in seen:
                raise ShapeError(f"service {listed.service_id} is listed twice")
            seen.add(listed.service_id)
        return ServiceList(tuple(services), raw)

    return checked("services", raw, parse)


def parse_placed(data: Any, raw: str = "") -> PlacedOrder:
    return checked("add", raw, lambda: PlacedOrder(as_id(_object(data, "the answer").get("order"), "order"), raw))


def _order_status(order_id: str, item: dict[str, Any], raw: str) -> OrderStatus:
    what = f"order {order_id}"
    return OrderStatus(
        order_id=order_id,
        status=as_order_status(item.get("status"), f"{what}: status"),
        charge=as_optional_decimal(item.get("charge"), f"{what}: charge"),
        start_count=as_optional_count(item.get("start_count"), f"{what}: start_count"),
        remains=as_optional_count(item.get("remains"), f"{what}: remains"),
        currency=as_text(item.get("currency"), f"{what}: currency", required=False),
        raw=raw,
    )


def parse_status(order_id: str, data: Any, raw: str = "") -> OrderStatus:
    return checked("status", raw, lambda: _order_status(order_id, _object(data, "the answer"), raw))


def _missing(ids: Iterable[str], found: Mapping[str, Any]) -> dict[str, ItemError]:
    return {i: ItemError(i, "missing from the provider's answer") for i in ids if i not in found}


def parse_multi_status(order_ids: Iterable[str], data: Any, raw: str = "") -> dict[str, OrderStatus | ItemError]:
    asked = list(order_ids)

    def parse() -> dict[str, OrderStatus | ItemError]:
        answer = _object(data, "the answer")
        result: dict[str, OrderStatus | ItemError] = {}
        for order_id in asked:
            if order_id not in answer:
                continue
            item = _object(answer[order_id], f"order {order_id}")
            message = error_message(item)
            fragment = _fragment(item)
            result[order_id] = (
                ItemError(order_id, message, fragment) if message else _order_status(order_id, item, fragment)
            )
        return result | _missing(asked, result)

    return checked("status", raw, parse)


def _item_error(value: Any) -> str | None:
    """The error text of a per-item answer (``{"error": "…"}``), or None when it is not an error."""
    return error_message(value) if isinstance(value, dict) else None


def parse_refill(order_id: str, data: Any, raw: str = "") -> RefillRequested:
    value = data.get("refill") if isinstance(data, dict) else None
    message = _item_error(value)
    if message:  # some panels nest the error: {"refill": {"error": "…"}}
        raise refusal(message, action="refill", raw=raw)
    return checked(
        "refill",
        raw,
        lambda: RefillRequested(order_id, as_id(_object(data, "the answer").get("refill"), "refill"), raw),
    )


def _per_item(
    action: str,
    raw: str,
    data: Any,
    *,
    id_field: str,
    value_field: str,
    build: Callable[[str, Any, str], T],
) -> dict[str, T | ItemError]:
    """Lists such as ``[{"order": 1, "refill": 1}, {"order": 2, "refill": {"error": "…"}}]``, keyed by id."""

    def parse() -> dict[str, T | ItemError]:
        result: dict[str, T | ItemError] = {}
        for position, entry in enumerate(_list(data, "the answer")):
            item = _object(entry, f"entry {position + 1}")
            item_id = as_id(item.get(id_field), f"entry {position + 1}: {id_field}")
            value = item.get(value_field)
            fragment = _fragment(item)
            message = _item_error(value)
            result[item_id] = ItemError(item_id, message, fragment) if message else build(item_id, value, fragment)
        return result

    return checked(action, raw, parse)


def parse_multi_refill(order_ids: Iterable[str], data: Any, raw: str = "") -> dict[str, RefillRequested | ItemError]:
    result = _per_item(
        "refill",
        raw,
        data,
        id_field="order",
        value_field="refill",
        build=lambda order_id, value, fragment: RefillRequested(order_id, as_id(value, f"order {order_id}"), fragment),
    )
    return result | _missing(order_ids, result)


def parse_refill_status(refill_id: str, data: Any, raw: str = "") -> RefillState:
    return checked(
        "refill_status",
        raw,
        lambda: RefillState(refill_id, as_refill_status(_object(data, "the answer").get("status")), raw),
    )


def parse_multi_refill_status(
    refill_ids: Iterable[str], data: Any, raw: str = ""
) -> dict[str, RefillState | ItemError]:
    result = _per_item(
        "refill_status",
        raw,
        data,
        id_field="refill",
        value_field="status",
        build=lambda refill_id, value, fragment: RefillState(
            refill_id, as_refill_status(value, f"refill {refill_id}: status"), fragment
        ),
    )
    return result | _missing(refill_ids, result)


def _cancelled(order_id: str, value: Any, fragment: str) -> CancelRequested | ItemError:
    if as_bool(value, f"order {order_id}: cancel"):
        return CancelRequested(order_id, fragment)
    return ItemError(order_id, "not canceled", fragment)


def parse_cancel(order_ids: Iterable[str], data: Any, raw: str = "") -> dict[str, CancelRequested | ItemError]:
    result = _per_item("cancel", raw, data, id_field="order", value_field="cancel", build=_cancelled)
    return result | _missing(order_ids, result)


def parse_balance(data: Any, raw: str = "") -> Balance:
    def parse() -> Balance:
        answer = _object(data, "the answer")
        amount = as_decimal(answer.get("balance"), "balance")
        currency = as_text(answer.get("currency"), "currency", required=False)
        return Balance(amount, currency.upper() if currency else None, raw)

    return checked("balance", raw, parse)
