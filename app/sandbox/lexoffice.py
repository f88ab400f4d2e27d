"""A loopback Lexware Office (lexoffice): the voucher endpoints the booking sync uses, for tests and the demo.

::

    with SandboxLexoffice(api_key="k", faults=[LexofficeFaultRule(LexofficeFault.GATEWAY_TIMEOUT_AFTER_CREATE)]) as lx:
        ...  # LexofficeClient(lx.url, "k"); lx.vouchers; lx.requests; lx.busiest_second()

It answers like the real API: Bearer key, 2 requests per second per key (the third within a second gets 429 with
``Retry-After``), 406 with an ``IssueList`` for a voucher whose required fields are missing or whose amounts do
not add up, ``GET /vouchers?voucherNumber=`` to find a voucher by its number, PDFs up to 5 MB attached by
multipart upload. Faults are injected per endpoint (``create``, ``lookup``, ``read``, ``upload``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs

from app.sandbox.serving import ServingThread, Startable

API_PATH = "/v1"
MAX_FILE = 5 * 1024 * 1024
MAX_BODY = MAX_FILE + 64 * 1024
REQUESTS_PER_SECOND = 2
SALES_TYPES = ("salesinvoice", "salescreditnote")
CENT = Decimal("0.01")


class LexofficeFault(StrEnum):
    GATEWAY_TIMEOUT_AFTER_CREATE = "gateway_timeout_after_create"  # the voucher IS booked, the answer is a 504
    SERVER_ERROR = "server_error"  # 500, nothing done
    UNAVAILABLE = "unavailable"  # 503, nothing done


@dataclass(frozen=True)
class LexofficeFaultRule:
    fault: LexofficeFault
    endpoint: str = "create"  # create | lookup | read | upload
    times: int | None = 1  # None: every time


@dataclass(frozen=True)
class LexofficeRequest:
    at: float  # time.monotonic() when it arrived
    method: str
    endpoint: str
    status: int


@dataclass
class SandboxVoucher:
    id: str
    payload: dict[str, Any]
    files: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {**self.payload, "id": self.id, "voucherStatus": "open", "files": list(self.files), "version": 1}


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _header_issues(voucher: dict[str, Any]) -> list[tuple[str, str]]:
    issues: list[tuple[str, str]] = []
    if voucher.get("type") not in SALES_TYPES:
        issues.append(("type", "invalid_value"))
    if not isinstance(voucher.get("voucherNumber"), str) or not voucher["voucherNumber"].strip():
        issues.append(("voucherNumber", "missing_entity"))
    try:
        date.fromisoformat(str(voucher.get("voucherDate"))[:10])
    except ValueError:
        issues.append(("voucherDate", "missing_entity"))
    if voucher.get("taxType") not in ("net", "gross"):
        issues.append(("taxType", "invalid_value"))
    if voucher.get("useCollectiveContact") is not True and not voucher.get("contactId"):
        issues.append(("contactId", "missing_entity"))
    issues += [
        (name, "missing_entity")
        for name in ("totalGrossAmount", "totalTaxAmount")
        if _number(voucher.get(name)) is None
    ]
    return issues


def _item_issues(items: Any) -> list[tuple[str, str]]:
    if not isinstance(items, list) or not items:
        return [("voucherItems", "missing_entity")]
    issues: list[tuple[str, str]] = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            issues.append((f"voucherItems[{position}]", "invalid_value"))
            continue
        for name in ("amount", "taxAmount", "taxRatePercent"):
            amount = _number(item.get(name))
            if amount is None or amount < 0:
                issues.append(
                    (f"voucherItems[{position}].{name}", "missing_entity" if amount is None else "invalid_value")
                )
        if not item.get("categoryId"):
            issues.append((f"voucherItems[{position}].categoryId", "missing_entity"))
    return issues


def voucher_issues(voucher: dict[str, Any]) -> list[tuple[str, str]]:
    """What the real API would refuse: (source, i18nKey) pairs; empty when the voucher is bookable."""
    issues = _header_issues(voucher) + _item_issues(voucher.get("voucherItems"))
    if issues:
        return issues
    items = voucher["voucherItems"]
    amounts = [Decimal(item["amount"]) for item in items]
    taxes = [Decimal(item["taxAmount"]) for item in items]
    for position, item in enumerate(items):
        net = amounts[position] if voucher["taxType"] == "net" else amounts[position] - taxes[position]
        expected = (net * Decimal(item["taxRatePercent"]) / 100).quantize(CENT)
        if abs(expected - taxes[position]) > CENT:
            issues.append((f"voucherItems[{position}].taxAmount", "invalid_value"))
    gross = sum(amounts) + (sum(taxes) if voucher["taxType"] == "net" else Decimal(0))
    if gross != Decimal(voucher["totalGrossAmount"]):
        issues.append(("totalGrossAmount", "invalid_value"))
    if sum(taxes) != Decimal(voucher["totalTaxAmount"]):
        issues.append(("totalTaxAmount", "invalid_value"))
    return issues


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: SandboxLexoffice


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SandboxLexoffice/1"
    sys_version = ""

    def do_GET(self) -> None:
        self.server.sandbox._serve(self)

    def do_POST(self) -> None:
        self.server.sandbox._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def send_json(self, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(answer, default=str).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


def _endpoint(method: str, parts: list[str]) -> str | None:
    match method, parts:
        case "POST", ["vouchers"]:
            return "create"
        case "GET", ["vouchers"]:
            return "lookup"
        case "GET", ["vouchers", _]:
            return "read"
        case "POST", ["vouchers", _, "files"]:
            return "upload"
    return None


class SandboxLexoffice(Startable):
    """A fake Lexware Office API on ``http://127.0.0.1:<free port>/v1``; ``start()``/``stop()`` or ``with``."""

    def __init__(
        self, *, api_key: str = "sandbox-lexoffice-key", faults: list[LexofficeFaultRule] | None = None
    ) -> None:
        self.api_key = api_key
        self._faults: list[list[Any]] = []
        self.set_faults(faults or [])
        self._vouchers: dict[str, SandboxVoucher] = {}
        self._requests: list[LexofficeRequest] = []
        self._window: deque[float] = deque()
        self._lock = threading.Lock()
        self._serving: ServingThread | None = None

    def start(self) -> Self:
        if self._serving is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.sandbox = self
            self._serving = ServingThread(server, "sandbox-lexoffice")
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.close()
            self._serving = None

    @property
    def url(self) -> str:
        if self._serving is None:
            raise RuntimeError("the sandbox Lexware Office is not running: call start()")
        return f"http://127.0.0.1:{self._serving.port}{API_PATH}"

    def settings_env(self) -> dict[str, str]:
        """The environment that points the app at this fake."""
        return {"SMPLAT_LEXOFFICE_API_KEY": self.api_key, "SMPLAT_LEXOFFICE_BASE_URL": self.url}

    # -- what tests look at --------------------------------------------------------------------------------------

    @property
    def vouchers(self) -> list[SandboxVoucher]:
        with self._lock:
            return list(self._vouchers.values())

    @property
    def requests(self) -> list[LexofficeRequest]:
        with self._lock:
            return list(self._requests)

    def busiest_second(self) -> int:
        """The most requests that arrived within any one second (429s included)."""
        times = sorted(request.at for request in self.requests)
        return max((sum(1 for later in times[i:] if later - start < 1.0) for i, start in enumerate(times)), default=0)

    def set_faults(self, rules: list[LexofficeFaultRule]) -> None:
        self._faults = [[rule, rule.times] for rule in rules]

    # -- serving -------------------------------------------------------------------------------------------------

    def _fault(self, endpoint: str) -> LexofficeFault | None:
        for entry in self._faults:
            rule, left = entry
            if rule.endpoint == endpoint and left != 0:
                entry[1] = None if left is None else left - 1
                return rule.fault  # type: ignore[no-any-return]
        return None

    def _admit(self, now: float) -> bool:
        """The API's limit: at most REQUESTS_PER_SECOND answered requests in any second per key."""
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        if len(self._window) >= REQUESTS_PER_SECOND:
            return False
        self._window.append(now)
        return True

    def _serve(self, handler: _Handler) -> None:
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if 0 < length <= MAX_BODY else b""
        method = handler.command
        parts = path.removeprefix(API_PATH).strip("/").split("/")
        endpoint = _endpoint(method, parts) if path.startswith(API_PATH) else None
        with self._lock:
            now = time.monotonic()
            if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
                status, answer, headers = 401, {"message": "Unauthorized"}, {}
            elif not self._admit(now):
                status, answer, headers = 429, {"message": "Rate limit exceeded"}, {"Retry-After": "1"}
            elif endpoint is None:
                status, answer, headers = 404, {"message": "Not found"}, {}
            else:
                status, answer = self._answer(endpoint, path, query, body, handler.headers.get("Content-Type", ""))
                headers = {}
            self._requests.append(LexofficeRequest(now, method, endpoint or path, status))
        handler.send_json(status, answer, headers)

    def _answer(self, endpoint: str, path: str, query: str, body: bytes, content_type: str) -> tuple[int, Any]:
        fault = self._fault(endpoint)
        if fault == LexofficeFault.SERVER_ERROR:
            return 500, {"message": "Internal Server Error"}
        if fault == LexofficeFault.UNAVAILABLE:
            return 503, {"message": "Service Unavailable"}
        voucher_id = path.removeprefix(API_PATH).strip("/").split("/")[1] if endpoint in ("read", "upload") else ""
        match endpoint:
            case "create":
                status, answer = self._create(body)
                if fault == LexofficeFault.GATEWAY_TIMEOUT_AFTER_CREATE:
                    return 504, {"message": "Gateway Timeout"}
                return status, answer
            case "lookup":
                number = (parse_qs(query).get("voucherNumber") or [""])[0]
                found = [v.as_json() for v in self._vouchers.values() if v.payload.get("voucherNumber") == number]
                return 200, {"content": found, "totalElements": len(found), "totalPages": 1, "number": 0}
            case "read":
                voucher = self._vouchers.get(voucher_id)
                return (200, voucher.as_json()) if voucher else (404, {"message": "Not found"})
            case _:
                return self._upload(voucher_id, body, content_type)

    def _create(self, body: bytes) -> tuple[int, Any]:
        try:
            voucher = json.loads(body, parse_float=Decimal)
        except ValueError:
            return 400, {"message": "Malformed JSON"}
        issues = voucher_issues(voucher) if isinstance(voucher, dict) else [("body", "invalid_value")]
        if issues:
            issue_list = [{"i18nKey": key, "source": source, "type": "validation_failure"} for source, key in issues]
            return 406, {"requestId": str(uuid.uuid4()), "IssueList": issue_list}
        created = SandboxVoucher(str(uuid.uuid4()), voucher)
        self._vouchers[created.id] = created
        return 200, {"id": created.id, "resourceUri": f"{API_PATH}/vouchers/{created.id}", "version": 1}

    def _upload(self, voucher_id: str, body: bytes, content_type: str) -> tuple[int, Any]:
        voucher = self._vouchers.get(voucher_id)
        if voucher is None:
            return 404, {"message": "Not found"}
        if not content_type.lower().startswith("multipart/form-data"):
            return 415, {"message": "Unsupported Media Type"}
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") != "file":
                continue
            payload = part.get_payload(decode=True)
            if part.get_content_type() != "application/pdf" or not isinstance(payload, bytes):
                break
            if not payload.startswith(b"%PDF") or len(payload) > MAX_FILE:
                break
            file_id = str(uuid.uuid4())
            voucher.files.append(file_id)
            return 202, {"id": file_id}
        issue = {"i18nKey": "invalid_file", "source": "file", "type": "validation_failure"}
        return 406, {"requestId": str(uuid.uuid4()), "IssueList": [issue]}
