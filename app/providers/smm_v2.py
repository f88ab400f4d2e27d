"""The client of an upstream SMM panel's API v2 (the de-facto protocol of SMM panels: form POST in, JSON out).

Every call is a form-encoded POST of ``key``, ``action`` and the action's fields to the panel's API address.
Answers are parsed into frozen dataclasses (:mod:`app.providers.smm_v2_answers`); failures raise one of four
classes, chosen for what dispatch may do next:

==================  =================================================================  =====================
class               when                                                               dispatch
==================  =================================================================  =====================
NotSent             connection refused, DNS failure, connect/pool timeout, HTTP 429    queue again
OutcomeUnknown      read/write timeout, connection dropped, HTTP 5xx, HTML or garbage   dispatch_unknown
InsufficientFunds   ``{"error": "Not enough funds on balance"}`` (and "Low balance")   on_hold
ProviderRefused     any other ``{"error": …}`` (bad link, unknown service, active order)  failed
==================  =================================================================  =====================

A dropped connection is never :class:`NotSent`, even when the panel dropped it before reading: the client
cannot tell the two apart. The API key is sent in the body only; it never appears in logs, ``repr`` or error
text (a panel that echoes it back has it masked in the raw text we keep).
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx
import structlog

from app.providers.smm_v2_answers import (
    UPSTREAM_ID,
    Balance,
    CancelRequested,
    InsufficientFunds,
    ItemError,
    ListedService,
    MalformedAnswer,
    NotSent,
    OrderStatus,
    OutcomeUnknown,
    PlacedOrder,
    ProviderError,
    ProviderRefused,
    RefillRequested,
    RefillState,
    ServiceList,
    SmmV2Error,
    UpstreamOrderStatus,
    UpstreamRefillStatus,
    decode,
    error_message,
    excerpt,
    parse_balance,
    parse_cancel,
    parse_multi_refill,
    parse_multi_refill_status,
    parse_multi_status,
    parse_placed,
    parse_refill,
    parse_refill_status,
    parse_services,
    parse_status,
    refusal,
)

__all__ = [
    "MAX_IDS_PER_CALL",
    "Balance",
    "CancelRequested",
    "CustomCommentsOrder",
    "DefaultOrder",
    "InsufficientFunds",
    "ItemError",
    "ListedService",
    "MalformedAnswer",
    "NewOrder",
    "NotSent",
    "OrderStatus",
    "OutcomeUnknown",
    "PackageOrder",
    "PlacedOrder",
    "PollOrder",
    "ProviderError",
    "ProviderRefused",
    "RefillRequested",
    "RefillState",
    "ServiceList",
    "SmmV2Client",
    "SmmV2Error",
    "SubscriptionOrder",
    "Timeouts",
    "UpstreamOrderStatus",
    "UpstreamRefillStatus",
]

log = structlog.get_logger(__name__)

MAX_IDS_PER_CALL = 100  # the protocol's limit for ``orders=`` / ``refills=``
EXPIRY_FORMAT = "%d/%m/%Y"  # subscriptions' ``expiry``, as panels expect it
MIN_MASKED_KEY = 8
HTTP_TOO_MANY_REQUESTS = 429
HTTP_REQUEST_TIMEOUT = 408
HTTP_SERVER_ERROR = 500

# -- what to order -----------------------------------------------------------------------------------------------


def _service_id(value: int | str) -> str:
    text = str(value).strip()
    if not UPSTREAM_ID.match(text):
        raise ValueError(f"not a service id: {value!r}")
    return text


def _link(value: str, what: str = "link") -> str:
    text = value.strip()
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"{what} must be one word without spaces: {value!r}")
    return text


def _positive(value: int, what: str, minimum: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be a whole number of at least {minimum}: {value!r}")
    return str(value)


@dataclass(frozen=True)
class DefaultOrder:
    """Default services; with ``runs`` and ``interval`` (minutes) a drip-feed: ``quantity`` per run."""

    service: int | str
    link: str
    quantity: int
    runs: int | None = None
    interval: int | None = None

    def fields(self) -> dict[str, str]:
        fields = {"service": _service_id(self.service), "link": _link(self.link)}
        fields["quantity"] = _positive(self.quantity, "quantity")
        if (self.runs is None) != (self.interval is None):
            raise ValueError("a drip-feed needs both runs and interval")
        if self.runs is not None and self.interval is not None:
            fields["runs"] = _positive(self.runs, "runs")
            fields["interval"] = _positive(self.interval, "interval", minimum=0)
        return fields


@dataclass(frozen=True)
class PackageOrder:
    service: int | str
    link: str

    def fields(self) -> dict[str, str]:
        return {"service": _service_id(self.service), "link": _link(self.link)}


@dataclass(frozen=True)
class CustomCommentsOrder:
    """One comment per entry; sent newline-separated (the quantity is their number)."""

    service: int | str
    link: str
    comments: tuple[str, ...]

    def fields(self) -> dict[str, str]:
        comments = [" ".join(comment.split()) for comment in self.comments]
        if not comments or not all(comments):
            raise ValueError("custom comments need at least one comment and no empty ones")
        return {"service": _service_id(self.service), "link": _link(self.link), "comments": "\n".join(comments)}


@dataclass(frozen=True)
class SubscriptionOrder:
    """Likes or views on the next ``posts`` posts of ``username`` (None: until expiry), ``min`` to ``max`` each."""

    service: int | str
    username: str
    min: int
    max: int
    posts: int | None = None
    old_posts: int | None = None
    delay: int = 0  # minutes after a new post
    expiry: date | None = None

    def fields(self) -> dict[str, str]:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is more than max {self.max}")
        fields = {
            "service": _service_id(self.service),
            "username": _link(self.username, "username"),
            "min": _positive(self.min, "min"),
            "max": _positive(self.max, "max"),
            "delay": _positive(self.delay, "delay", minimum=0),
        }
        if self.posts is not None:
            fields["posts"] = _positive(self.posts, "posts")
        if self.old_posts is not None:
            fields["old_posts"] = _positive(self.old_posts, "old_posts", minimum=0)
        if self.expiry is not None:
            fields["expiry"] = self.expiry.strftime(EXPIRY_FORMAT)
        return fields


@dataclass(frozen=True)
class PollOrder:
    service: int | str
    link: str
    quantity: int
    answer_number: int

    def fields(self) -> dict[str, str]:
        return {
            "service": _service_id(self.service),
            "link": _link(self.link),
            "quantity": _positive(self.quantity, "quantity"),
            "answer_number": _positive(self.answer_number, "answer_number"),
        }


NewOrder = DefaultOrder | PackageOrder | CustomCommentsOrder | SubscriptionOrder | PollOrder

# -- the client --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``connect`` failing proves nothing was sent; ``read`` expiring means the outcome is unknown."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 10.0
    pool: float = 5.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


def _ids(values: Iterable[int | str], what: str) -> list[str]:
    ids = []
    for value in values:
        text = str(value).strip()
        if not UPSTREAM_ID.match(text):
            raise ValueError(f"not {what}: {value!r}")
        ids.append(text)
    return list(dict.fromkeys(ids))  # once each, in the order given


def _one_id(value: int | str, what: str) -> str:
    (single,) = _ids([value], what)
    return single


R = TypeVar("R")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client shares: building one loads the CA bundle (~0.1 s of CPU)."""
    return httpx.create_ssl_context()


class SmmV2Client:
    """``async with SmmV2Client(url, key) as client: await client.balance()``.

    ``url`` is the panel's full API address (``https://panel.example/api/v2``), used as it is (no redirects are
    followed: a redirected POST would arrive as a body-less GET).
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeouts: Timeouts | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self.url = url
        self.timeouts = timeouts or Timeouts()
        self.__key = api_key
        self._http = httpx.AsyncClient(
            timeout=self.timeouts.httpx(),
            transport=transport,
            verify=tls_context(),
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "SMPLaT/1 (SMM API v2 client)"},
        )

    def __repr__(self) -> str:
        return f"SmmV2Client({self.url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- actions -------------------------------------------------------------------------------------------------

    async def services(self) -> ServiceList:
        data, raw = await self._call("services")
        return parse_services(data, raw)

    async def add(self, order: NewOrder) -> PlacedOrder:
        """Place an order. :class:`OutcomeUnknown` means it may exist at the provider: never re-send blindly."""
        data, raw = await self._call("add", order.fields())
        return parse_placed(data, raw)

    async def status(self, order_id: int | str) -> OrderStatus:
        order = _one_id(order_id, "an order id")
        data, raw = await self._call("status", {"order": order})
        return parse_status(order, data, raw)

    async def multi_status(self, order_ids: Iterable[int | str]) -> dict[str, OrderStatus | ItemError]:
        """Status of many orders, 100 per request; ids the provider does not know come back as ItemError."""

        async def batch(ids: list[str]) -> dict[str, OrderStatus | ItemError]:
            data, raw = await self._call("status", {"orders": ",".join(ids)})
            return parse_multi_status(ids, data, raw)

        return await self._batched(_ids(order_ids, "an order id"), batch)

    async def refill(self, order_id: int | str) -> RefillRequested:
        order = _one_id(order_id, "an order id")
        data, raw = await self._call("refill", {"order": order})
        return parse_refill(order, data, raw)

    async def multi_refill(self, order_ids: Iterable[int | str]) -> dict[str, RefillRequested | ItemError]:
        async def batch(ids: list[str]) -> dict[str, RefillRequested | ItemError]:
            data, raw = await self._call("refill", {"orders": ",".join(ids)})
            return parse_multi_refill(ids, data, raw)

        return await self._batched(_ids(order_ids, "an order id"), batch)

    async def refill_status(self, refill_id: int | str) -> RefillState:
        refill = _one_id(refill_id, "a refill id")
        data, raw = await self._call("refill_status", {"refill": refill})
        return parse_refill_status(refill, data, raw)

    async def multi_refill_status(self, refill_ids: Iterable[int | str]) -> dict[str, RefillState | ItemError]:
        async def batch(ids: list[str]) -> dict[str, RefillState | ItemError]:
            data, raw = await self._call("refill_status", {"refills": ",".join(ids)})
            return parse_multi_refill_status(ids, data, raw)

        return await self._batched(_ids(refill_ids, "a refill id"), batch)

    async def cancel(self, order_ids: Iterable[int | str]) -> dict[str, CancelRequested | ItemError]:
        """Ask the provider to cancel orders (always the ``orders`` field, 100 per request)."""

        async def batch(ids: list[str]) -> dict[str, CancelRequested | ItemError]:
            data, raw = await self._call("cancel", {"orders": ",".join(ids)})
            return parse_cancel(ids, data, raw)

        return await self._batched(_ids(order_ids, "an order id"), batch)

    async def balance(self) -> Balance:
        data, raw = await self._call("balance")
        return parse_balance(data, raw)

    # -- transport -----------------------------------------------------------------------------------------------

    async def _batched(self, ids: Sequence[str], call: Callable[[list[str]], Awaitable[dict[str, R]]]) -> dict[str, R]:
        """One request per 100 ids; a failing batch raises with the answers so far on ``partial``."""
        results: dict[str, R] = {}
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            try:
                results.update(await call(list(ids[start : start + MAX_IDS_PER_CALL])))
            except SmmV2Error as exc:
                exc.partial = dict(results)
                raise
        return results

    def _masked(self, text: str) -> str:
        # Very short keys (tests) would mask ordinary words; real panel keys are 32+ characters.
        if len(self.__key) < MIN_MASKED_KEY or self.__key not in text:
            return text
        return text.replace(self.__key, "***")

    async def _call(self, action: str, fields: dict[str, str] | None = None) -> tuple[Any, str]:
        """POST the action; the decoded JSON and the raw text of a successful answer, else a taxonomy error."""
        body = {"key": self.__key, "action": action, **(fields or {})}
        started = time.monotonic()
        try:
            response = await self._http.post(self.url, data=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
            raise NotSent(self._describe(exc), action=action) from None
        except httpx.InvalidURL:
            raise NotSent(f"the API address is not a valid URL: {self.url}", action=action) from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise OutcomeUnknown(self._describe(exc), action=action) from None
        raw = self._masked(response.text)
        log.debug(
            "provider answered",
            action=action,
            host=urlsplit(self.url).netloc,
            status=response.status_code,
            ms=round((time.monotonic() - started) * 1000),
        )
        self._check_http_status(action, response, raw)
        return decode(raw, action, response.status_code), raw

    def _check_http_status(self, action: str, response: httpx.Response, raw: str) -> None:
        code = response.status_code
        if response.is_success:
            return
        if code == HTTP_TOO_MANY_REQUESTS:
            raise NotSent("rate limited by the provider (HTTP 429): not processed", action=action, http_status=code)
        if response.is_redirect:
            location = self._masked(response.headers.get("location", "?"))
            raise ProviderRefused(
                f"the API address redirects (HTTP {code}) to {location}: enter the final address",
                action=action,
                raw=raw,
                http_status=code,
            )
        if code >= HTTP_SERVER_ERROR or code == HTTP_REQUEST_TIMEOUT:
            raise OutcomeUnknown(
                f"HTTP {code} from the provider: {excerpt(raw)}", action=action, raw=raw, http_status=code
            )
        message = _json_error(raw)
        if message is not None:  # a 4xx that carries the panel's own error text
            raise refusal(message, action=action, raw=raw, http_status=code)
        raise ProviderRefused(f"HTTP {code}: {excerpt(raw)}", action=action, raw=raw, http_status=code)

    def _describe(self, exc: Exception) -> str:
        kinds: dict[type[Exception], str] = {
            httpx.ConnectError: "could not connect",
            httpx.ConnectTimeout: "connect timeout",
            httpx.UnsupportedProtocol: "not an http(s) address",
            httpx.ReadTimeout: "no answer in time (read timeout)",
            httpx.WriteTimeout: "write timeout",
            httpx.PoolTimeout: "no free connection (pool timeout)",
            httpx.RemoteProtocolError: "connection closed by the provider",
            httpx.ReadError: "connection lost while waiting for the answer",
            httpx.WriteError: "connection lost while sending",
        }
        kind = kinds.get(type(exc))
        detail = self._masked(str(exc)) or type(exc).__name__
        host = urlsplit(self.url).netloc or self.url
        return f"{kind} ({host}): {detail}" if kind else f"{host}: {detail}"


def _json_error(raw: str) -> str | None:
    try:
        return error_message(json.loads(raw))
    except ValueError:
        return None
