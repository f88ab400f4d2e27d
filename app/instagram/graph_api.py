"""``GraphProfileStats``: a profile's counts from the Instagram Graph API's Business Discovery.

::

    GET {SMPLAT_INSTAGRAM_API_BASE}/{SMPLAT_INSTAGRAM_ACCOUNT_ID}
        ?fields=business_discovery.username(<handle>){followers_count,follows_count,media_count}

asked through the agency's own professional account with its access token (sent as a Bearer header, so it is in
no URL and no log line). Only business and creator accounts are visible; Meta answers a personal account and one
that does not exist alike (code 110, subcode 2207013), and the page falls back to the provider's counts.

Every answer is read into one :class:`Lookup`: counts, "not visible", rate limited (error codes 4, 17, 32, 613,
80002, or usage headers near 100 %: stop asking and back off), token refused (190: the account must be
reconnected) or unavailable (timeout, 5xx, a garbled answer: skip, the next run asks again).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from types import TracebackType
from typing import Any, Self

import httpx

from app.config import Settings, get_settings
from app.instagram.profiles import ProfileCounts

FIELDS = "followers_count,follows_count,media_count"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80002})
TOKEN_CODES = frozenset({190})
NOT_VISIBLE_CODE = 110
NOT_VISIBLE_SUBCODE = 2207013  # "Cannot find User": not a business or creator account, or no such account
# Usage headers give per cent of the rolling hour's allowance; this close to it, the next calls would be refused.
USAGE_LIMIT = 90
RATE_LIMIT_BACKOFF = timedelta(hours=1)  # Meta counts calls over a rolling hour
USAGE_BACKOFF = timedelta(minutes=15)
MAX_REASON = 300


class LookupOutcome(StrEnum):
    COUNTED = "counted"
    NOT_VISIBLE = "not_visible"
    RATE_LIMITED = "rate_limited"
    TOKEN_REFUSED = "token_refused"  # noqa: S105 - an outcome, not a secret
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Lookup:
    """What one Business Discovery call told us. ``back_off``: ask nothing more for that long."""

    outcome: LookupOutcome
    counts: ProfileCounts | None = None
    back_off: timedelta | None = None
    reason: str = ""

    @property
    def stops_run(self) -> bool:
        return self.back_off is not None or self.outcome == LookupOutcome.TOKEN_REFUSED


def _usage_percent(value: Any) -> int:
    """The highest of call_count, total_time and total_cputime in one usage object (0 when unreadable)."""
    if not isinstance(value, dict):
        return 0
    numbers = [value.get(name) for name in ("call_count", "total_time", "total_cputime")]
    return max((int(number) for number in numbers if isinstance(number, int | float)), default=0)


def usage_back_off(headers: Mapping[str, str]) -> timedelta | None:
    """How long to wait when X-App-Usage or X-Business-Use-Case-Usage says the allowance is (nearly) used up."""
    try:
        app_usage = json.loads(headers.get("x-app-usage") or "{}")
        business_usage = json.loads(headers.get("x-business-use-case-usage") or "{}")
    except ValueError:
        return None
    highest, regain_minutes = _usage_percent(app_usage), 0
    if isinstance(business_usage, dict):
        for entries in business_usage.values():
            for entry in entries if isinstance(entries, list) else []:
                highest = max(highest, _usage_percent(entry))
                regain = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(regain, int) and regain > regain_minutes:
                    regain_minutes = regain
    if highest < USAGE_LIMIT and not regain_minutes:
        return None
    return max(USAGE_BACKOFF, timedelta(minutes=regain_minutes))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def read_answer(status: int, body: bytes, headers: Mapping[str, str]) -> Lookup:
    """The :class:`Lookup` of one HTTP answer (``headers`` with lower-case names)."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return Lookup(LookupOutcome.UNAVAILABLE, reason=f"HTTP {status}: not a JSON object")
    error = answer.get("error")
    if isinstance(error, dict):
        return _error_lookup(status, error, headers)
    if status >= 300:
        return Lookup(LookupOutcome.UNAVAILABLE, reason=f"HTTP {status}")
    found = answer.get("business_discovery")
    found = found if isinstance(found, dict) else {}
    followers, following, media = (_count(found.get(name)) for name in FIELDS.split(","))
    if followers is None or following is None or media is None:
        return Lookup(LookupOutcome.UNAVAILABLE, reason="the answer lacks the counts")
    counts = ProfileCounts(followers=followers, following=following, media_count=media)
    return Lookup(LookupOutcome.COUNTED, counts=counts, back_off=usage_back_off(headers))


def _error_lookup(status: int, error: dict[str, Any], headers: Mapping[str, str]) -> Lookup:
    code, subcode = error.get("code"), error.get("error_subcode")
    reason = f"HTTP {status}, code {code}" + (f"/{subcode}" if subcode is not None else "")
    message = error.get("message")
    if isinstance(message, str):
        reason = f"{reason}: {message}"[:MAX_REASON]
    if code in RATE_LIMIT_CODES:
        back_off = max(RATE_LIMIT_BACKOFF, usage_back_off(headers) or RATE_LIMIT_BACKOFF)
        return Lookup(LookupOutcome.RATE_LIMITED, back_off=back_off, reason=reason)
    if code in TOKEN_CODES:
        return Lookup(LookupOutcome.TOKEN_REFUSED, reason=reason)
    if code == NOT_VISIBLE_CODE or subcode == NOT_VISIBLE_SUBCODE:
        return Lookup(LookupOutcome.NOT_VISIBLE, reason=reason)
    return Lookup(LookupOutcome.UNAVAILABLE, back_off=usage_back_off(headers), reason=reason)


def discovery_fields(handle: str) -> str:
    return f"business_discovery.username({handle}){{{FIELDS}}}"


class GraphProfileStats:
    """The Business Discovery endpoint over one httpx client; ``async with`` closes it."""

    def __init__(
        self,
        base_url: str,
        account_id: str,
        access_token: str,
        *,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/{account_id}"
        self._client = httpx.AsyncClient(
            timeout=timeout, headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> GraphProfileStats:
        if not settings.instagram_account_id or not settings.instagram_access_token:
            raise ValueError("the Graph source needs SMPLAT_INSTAGRAM_ACCOUNT_ID and SMPLAT_INSTAGRAM_ACCESS_TOKEN")
        return cls(settings.instagram_api_base, settings.instagram_account_id, settings.instagram_access_token)

    async def look_up(self, handle: str) -> Lookup:
        """Ask about ``handle`` (a profile handle as :func:`~app.instagram.profiles.profile_handle` returns it)."""
        try:
            response = await self._client.get(self._url, params={"fields": discovery_fields(handle)})
        except httpx.TimeoutException:
            return Lookup(LookupOutcome.UNAVAILABLE, reason="timed out")
        except httpx.HTTPError as exc:
            return Lookup(LookupOutcome.UNAVAILABLE, reason=f"not reachable: {type(exc).__name__}")
        return read_answer(response.status_code, response.content, response.headers)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def configured_source() -> GraphProfileStats | None:
    """The Graph source the settings describe; None when snapshots are off."""
    settings = get_settings()
    return GraphProfileStats.from_settings(settings) if settings.instagram_source == "graph" else None
