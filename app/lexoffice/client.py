"""``LexofficeClient``: the few Lexware Office (lexoffice) endpoints the booking sync uses, over httpx.

Lexware Office allows 2 requests per second per API key. Every client of a key in this process waits its turn
on one shared throttle (one request start per ``MIN_INTERVAL``, a little over half a second so that network
jitter never puts three requests into one second on their side). 429 waits as long as ``Retry-After`` says,
500 and 503 are retried with backoff, 406 is a validation refusal whose issues finance reads.

A create that times out or answers 504 may have booked the voucher: it is never sent again blindly. The caller
gets :class:`VoucherInDoubt` and looks the voucher up by our number (``GET /vouchers?voucherNumber=…``,
the voucher filter of the public API) before it creates anything.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
import msgspec
import structlog

log = structlog.get_logger(__name__)

MIN_INTERVAL = 0.55  # seconds between two request starts per key: ≤ 2 requests in any second
RETRY_DELAYS = (1.0, 2.0, 4.0)  # backoff for 429 without Retry-After, 500 and 503
RETRIED_STATUSES = frozenset({429, 500, 503})
MAX_RETRY_AFTER = 60.0
MAX_REASON = 1000
# Amounts are Decimals and go out as JSON numbers exactly as they are (never through float).
JSON_ENCODER = msgspec.json.Encoder(decimal_format="number")


class LexofficeError(Exception):
    """The request did not do what it should; ``reason`` is for finance, ``retryable`` for the sweep."""

    retryable = True

    def __init__(self, reason: str) -> None:
        self.reason = reason[:MAX_REASON]
        super().__init__(self.reason)


class LexofficeUnavailable(LexofficeError):
    """Not reachable, or still 429/5xx after the retries: try again later."""


class VoucherInDoubt(LexofficeError):
    """A create timed out or answered 504: the voucher may exist; look it up before creating again."""


class LexofficeRejected(LexofficeError):
    """Refused for what was sent (406 validation, other 4xx): sending it again changes nothing."""

    retryable = False


@dataclass
class Throttle:
    """One request start per ``interval`` seconds, for every client sharing it (one event loop)."""

    interval: float = MIN_INTERVAL
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _next_start: float = 0.0

    async def wait(self) -> None:
        async with self._lock:
            delay = self._next_start - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next_start = time.monotonic() + self.interval


# Per event loop (an asyncio.Lock belongs to one), then per API key: the process's share of the key's limit.
_throttles: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Throttle]] = weakref.WeakKeyDictionary()


def shared_throttle(api_key: str) -> Throttle:
    per_key = _throttles.setdefault(asyncio.get_running_loop(), {})
    return per_key.setdefault(api_key, Throttle())


def _issues(response: httpx.Response) -> str:
    """The validation issues of a refusal (``IssueList``: source and key), else the body's message."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:300]
    issues = body.get("IssueList") if isinstance(body, dict) else None
    if isinstance(issues, list) and issues:
        return "; ".join(f"{issue.get('source')}: {issue.get('i18nKey') or issue.get('type')}" for issue in issues)
    return str(body.get("message") if isinstance(body, dict) and body.get("message") else body)[:300]


def _retry_after(response: httpx.Response, fallback: float) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return fallback


class LexofficeClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        throttle: Throttle | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        timeout: float = 30.0,
    ) -> None:
        self._throttle = throttle or shared_throttle(api_key)
        self._retry_delays = tuple(retry_delays)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def create_voucher(self, voucher: Mapping[str, Any]) -> str:
        """Book a voucher; its id. Raises VoucherInDoubt when it may have been booked without an answer."""
        response = await self._request(
            "POST",
            "/vouchers",
            creates=True,
            content=JSON_ENCODER.encode(voucher),
            headers={"Content-Type": "application/json"},
        )
        return str(response.json()["id"])

    async def find_voucher(self, voucher_number: str) -> str | None:
        """The id of the voucher booked under our number, if there is one."""
        response = await self._request("GET", "/vouchers", params={"voucherNumber": voucher_number})
        content = response.json().get("content") or []
        return str(content[0]["id"]) if content else None

    async def voucher_files(self, voucher_id: str) -> list[str]:
        response = await self._request("GET", f"/vouchers/{voucher_id}")
        return [str(file_id) for file_id in response.json().get("files") or []]

    async def upload_file(self, voucher_id: str, filename: str, pdf: bytes) -> None:
        files = {"file": (filename, pdf, "application/pdf")}
        await self._request("POST", f"/vouchers/{voucher_id}/files", files=files, data={"type": "voucher"})

    async def _request(self, method: str, path: str, *, creates: bool = False, **options: Any) -> httpx.Response:
        failure = "no answer"
        for attempt in range(len(self._retry_delays) + 1):
            delay = self._retry_delays[min(attempt, len(self._retry_delays) - 1)] if self._retry_delays else 0.0
            await self._throttle.wait()
            try:
                response = await self._http.request(method, path, **options)
            except httpx.ConnectError as exc:  # nothing reached them: safe to send again
                failure = f"cannot connect: {exc}"
            except httpx.TransportError as exc:
                if creates:
                    raise VoucherInDoubt(f"no answer to {method} {path}: {exc!r}") from exc
                failure = f"no answer: {exc!r}"
            else:
                if response.status_code == 504 and creates:
                    raise VoucherInDoubt(f"{method} {path}: 504 Gateway Timeout")
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRIED_STATUSES and response.status_code < 500:
                    raise LexofficeRejected(f"HTTP {response.status_code}: {_issues(response)}")
                failure = f"HTTP {response.status_code}: {_issues(response)}"
                if response.status_code == 429:
                    delay = _retry_after(response, delay)
                elif response.status_code not in RETRIED_STATUSES:
                    raise LexofficeUnavailable(failure)
            if attempt < len(self._retry_delays):
                log.info("lexoffice request retried", method=method, path=path, failure=failure, delay=delay)
                await asyncio.sleep(delay)
        raise LexofficeUnavailable(f"{method} {path}: {failure}")
