"""A loopback Instagram Graph API: the Business Discovery read the snapshot job makes, for tests and the demo.

::

    accounts = {"lena.schmidt": SandboxAccount(followers=1200, follows=300, media=40)}
    with SandboxInstagramGraph(accounts=accounts.get) as graph:
        ...  # GraphProfileStats(graph.url, graph.account_id, graph.access_token); graph.requests

``GET /v25.0/<account id>?fields=business_discovery.username(<handle>){followers_count,follows_count,media_count}``
with the token as a Bearer header (or ``access_token``). It answers like Meta: the requested counts of a business
or creator account; code 110 / subcode 2207013 for a handle ``accounts`` does not know (a personal account, or
none); 190 for another token; 100 / 33 for another account id. Faults are injected by rule: rate-limit errors
(code 4, 17, 32, 613 …), a 500, a slow answer, or usage headers at the limit on an answer that counts.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from app.sandbox.serving import ServingThread, Startable

API_PATH = "/v25.0"
DISCOVERY = re.compile(r"business_discovery\.username\(([^)]*)\)(?:\{([a-z_,]*)\})?")
COUNT_FIELDS = {"followers_count": "followers", "follows_count": "follows", "media_count": "media"}
NOT_VISIBLE = {
    "message": "Invalid user id",
    "type": "OAuthException",
    "code": 110,
    "error_subcode": 2207013,
    "is_transient": False,
    "error_user_title": "Cannot find User",
}
BAD_TOKEN = {"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException", "code": 190}
RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80002: "(#80002) There have been too many calls to this Instagram account.",
}


@dataclass(frozen=True)
class SandboxAccount:
    """A business or creator account as Business Discovery shows it."""

    followers: int
    follows: int
    media: int


class GraphFault(StrEnum):
    RATE_LIMITED = "rate_limited"  # HTTP 400 with error ``code`` (4 unless given)
    SERVER_ERROR = "server_error"  # HTTP 500, Meta's "unknown error" body
    SLOW = "slow"  # answer normally after ``seconds``
    USAGE_AT_LIMIT = "usage_at_limit"  # answer normally, X-Business-Use-Case-Usage at 100 % (``regain_minutes``)


@dataclass(frozen=True)
class GraphFaultRule:
    fault: GraphFault
    times: int | None = 1  # None: every request
    code: int = 4
    seconds: float = 2.0
    regain_minutes: int = 30


@dataclass(frozen=True)
class GraphRequest:
    handle: str | None
    status: int
    fault: GraphFault | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: SandboxInstagramGraph


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SandboxGraph/1"
    sys_version = ""

    def do_GET(self) -> None:
        self.server.sandbox._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a request line may carry the token."""

    def send_json(self, status: int, answer: Any, headers: dict[str, str]) -> None:
        body = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timed out) before the answer came
            self.close_connection = True


def _error(error: dict[str, Any]) -> dict[str, Any]:
    return {"error": {**error, "fbtrace_id": "SandboxTrace"}}


class SandboxInstagramGraph(Startable):
    """A fake Graph API on ``http://127.0.0.1:<free port>/v25.0``; ``start()``/``stop()`` or ``with``.

    ``accounts(handle)`` is the world: the business or creator account of that handle now, None for a personal
    account or none at all (a dict's ``get``, or the demo's function that follows the sandbox provider's delivery).
    """

    def __init__(
        self,
        *,
        accounts: Callable[[str], SandboxAccount | None],
        account_id: str = "17841400000000001",
        access_token: str = "sandbox-instagram-token",  # noqa: S107 - a fake's own token
        faults: list[GraphFaultRule] | None = None,
    ) -> None:
        self.accounts = accounts
        self.account_id = account_id
        self.access_token = access_token
        self._faults: list[list[Any]] = []
        self.set_faults(faults or [])
        self._requests: list[GraphRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._serving: ServingThread | None = None

    def start(self) -> Self:
        if self._serving is None:
            self._stopping.clear()
            server = _Server(("127.0.0.1", 0), _Handler)
            server.sandbox = self
            self._serving = ServingThread(server, "sandbox-instagram-graph")
        return self

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            self._stopping.set()  # slow answers are released
            serving.close()

    @property
    def url(self) -> str:
        if self._serving is None:
            raise RuntimeError("the sandbox Graph API is not running: call start()")
        return f"http://127.0.0.1:{self._serving.port}{API_PATH}"

    def settings_env(self) -> dict[str, str]:
        """The environment that points the app's Graph source at this fake."""
        return {
            "SMPLAT_INSTAGRAM_SOURCE": "graph",
            "SMPLAT_INSTAGRAM_API_BASE": self.url,
            "SMPLAT_INSTAGRAM_ACCOUNT_ID": self.account_id,
            "SMPLAT_INSTAGRAM_ACCESS_TOKEN": self.access_token,
        }

    @property
    def requests(self) -> list[GraphRequest]:
        with self._lock:
            return list(self._requests)

    def set_faults(self, rules: list[GraphFaultRule]) -> None:
        self._faults = [[rule, rule.times] for rule in rules]

    # -- serving -------------------------------------------------------------------------------------------------

    def _fault(self) -> GraphFaultRule | None:
        with self._lock:
            for entry in self._faults:
                rule, left = entry
                if left != 0:
                    entry[1] = None if left is None else left - 1
                    return rule  # type: ignore[no-any-return]
        return None

    def _serve(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        token = handler.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or (query.get("access_token") or [""])[0]
        found = DISCOVERY.fullmatch((query.get("fields") or [""])[0])
        handle = found.group(1) if found else None
        rule = self._fault() if token == self.access_token else None
        status, answer, headers = self._answer(parts.path, token, found, rule)
        with self._lock:
            self._requests.append(GraphRequest(handle, status, rule.fault if rule else None))
        if rule is not None and rule.fault == GraphFault.SLOW:
            self._stopping.wait(rule.seconds)
        handler.send_json(status, answer, headers)

    def _answer(
        self, path: str, token: str, found: re.Match[str] | None, rule: GraphFaultRule | None
    ) -> tuple[int, Any, dict[str, str]]:
        if token != self.access_token:
            return 400, _error(BAD_TOKEN), {}
        if rule is not None and rule.fault == GraphFault.RATE_LIMITED:
            message = RATE_LIMIT_MESSAGES.get(rule.code, f"(#{rule.code}) Rate limit reached")
            usage = {"call_count": 100, "total_cputime": 10, "total_time": 10}
            error = {"message": message, "type": "OAuthException", "is_transient": True, "code": rule.code}
            return 400, _error(error), {"X-App-Usage": json.dumps(usage)}
        if rule is not None and rule.fault == GraphFault.SERVER_ERROR:
            error = {"message": "An unknown error has occurred.", "type": "OAuthException", "code": 1}
            return 500, _error(error), {}
        if path != f"{API_PATH}/{self.account_id}" or found is None:
            error = {"message": "Unsupported get request.", "type": "GraphMethodException", "code": 100}
            return 400, _error({**error, "error_subcode": 33}), {}
        account = self.accounts(found.group(1))
        if account is None:
            return 400, _error(NOT_VISIBLE), {}
        wanted = (found.group(2) or "").split(",")
        discovered: dict[str, Any] = {
            name: getattr(account, attribute) for name, attribute in COUNT_FIELDS.items() if name in wanted
        }
        headers: dict[str, str] = {}
        if rule is not None and rule.fault == GraphFault.USAGE_AT_LIMIT:
            business_usage: dict[str, Any] = {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 20,
                "estimated_time_to_regain_access": rule.regain_minutes,
            }
            headers["X-Business-Use-Case-Usage"] = json.dumps({self.account_id: [business_usage]})
        discovered["id"] = f"17841{zlib.crc32(found.group(1).encode()):010d}"
        return 200, {"business_discovery": discovered, "id": self.account_id}, headers
