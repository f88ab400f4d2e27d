"""The sandbox SMM provider: a real HTTP server on 127.0.0.1 that speaks API v2, for tests and the demo.

::

    clock = ManualClock()
    late_once = FaultRule(Fault.TIMEOUT_AFTER_ACCEPT, actions=("add",), times=1)
    with SandboxProvider(api_key="k", clock=clock, faults=[late_once]) as sandbox:
        ...  # SmmV2Client(sandbox.url, "k"); clock.advance(60); sandbox.orders; sandbox.requests

It runs in a background thread (stdlib ``ThreadingHTTPServer``; starts in milliseconds, stops cleanly, also
while a request is held back) and answers exactly as the protocol reference describes: ``POST`` (form or
multipart) or ``GET`` to ``/api/v2``, JSON out with ``Content-Type: application/json``, numbers as strings,
errors as HTTP 200 ``{"error": "…"}``. The simulation (orders, refills, cancels, balance) is
:class:`~app.sandbox.smm_panel.SmmPanel`, driven by ``clock`` (seconds; real time unless a test passes one).

Faults are injected by rule (:class:`FaultRule`): for some or all actions, with a probability drawn from a seeded
generator and/or a number of times. ``orders`` is the log of every accepted ``add``, ``requests`` every request
received (also those answered late, refused or dropped): tests prove "no duplicate upstream order" with them.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl

from app.sandbox.serving import ServingThread, Startable
from app.sandbox.smm_panel import (
    ACTIVE_ORDER,
    DEFAULT_SERVICES,
    NOT_ENOUGH_FUNDS,
    SandboxOrder,
    SandboxService,
    Simulation,
    SmmPanel,
)

__all__ = [
    "DEFAULT_SERVICES",
    "Fault",
    "FaultRule",
    "ManualClock",
    "RecordedRequest",
    "SandboxOrder",
    "SandboxProvider",
    "SandboxService",
    "Simulation",
]

API_PATH = "/api/v2"
MAX_BODY = 1_000_000
HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>The panel is temporarily unavailable.</p></body></html>"
)


class Fault(StrEnum):
    LATENCY = "latency"  # wait ``seconds``, then handle and answer normally
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"  # handle (the order IS created), answer ``seconds`` late
    SERVER_ERROR = "server_error"  # HTTP ``status`` (500) with a JSON error body
    HTML_ERROR = "html_error"  # an HTML error page, HTTP ``status`` (502)
    NOT_ENOUGH_FUNDS = "not_enough_funds"  # {"error": "Not enough funds on balance"}
    ACTIVE_ORDER = "active_order"  # {"error": "You have active order with this link. …"}
    DROP_BEFORE_READ = "drop_before_read"  # close the connection unhandled (nothing is created)
    DROP_AFTER_ACCEPT = "drop_after_accept"  # handle (the order IS created), close without answering


@dataclass(frozen=True)
class FaultRule:
    """When to misbehave. ``actions`` empty: any request; ``skip``: let that many matching requests through
    first; ``times``: at most so often (None: no limit); ``probability``: drawn from the sandbox's seeded generator.

    ``DROP_BEFORE_READ`` for any action closes connections before reading a byte; for named actions it reads
    the request (to know its action) and closes without handling it. ``SERVER_ERROR`` and ``HTML_ERROR`` handle
    the request first when ``after_processing`` (the worst case: the order exists, the answer is an error page).
    """

    fault: Fault
    actions: tuple[str, ...] = ()
    probability: float = 1.0
    times: int | None = None
    skip: int = 0
    seconds: float = 2.0  # LATENCY: delay; TIMEOUT_AFTER_ACCEPT: how late the answer comes
    status: int | None = None  # SERVER_ERROR: 500, HTML_ERROR: 502 unless given
    after_processing: bool = False

    def applies_to(self, action: str | None) -> bool:
        return not self.actions or action in self.actions


@dataclass(frozen=True)
class RecordedRequest:
    number: int
    at: float  # the sandbox clock
    method: str
    action: str | None  # None: dropped before it was read
    fields: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)  # without the key
    key_matched: bool = False
    fault: Fault | None = None


class ManualClock:
    """A clock a test moves: ``clock.advance(30)``. Seconds, starting at ``start``."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now


class _Faults:
    def __init__(self, rules: Sequence[FaultRule], seed: int) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not security
        self.replace(rules)

    def replace(self, rules: Sequence[FaultRule]) -> None:
        with self._lock:
            self._rules = list(rules)
            self._left = [rule.times for rule in rules]
            self._skip = [rule.skip for rule in rules]

    def pick(self, action: str | None, *, on_connect: bool) -> FaultRule | None:
        """The first rule that fires for this request (or, ``on_connect``, for a connection not yet read)."""
        with self._lock:
            for position, rule in enumerate(self._rules):
                connection_rule = rule.fault == Fault.DROP_BEFORE_READ and not rule.actions
                if on_connect != connection_rule or not rule.applies_to(action) or self._left[position] == 0:
                    continue
                if self._skip[position] > 0:
                    self._skip[position] -= 1
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                left = self._left[position]
                if left is not None:
                    self._left[position] = left - 1
                return rule
        return None


def _fields(query: str, body: bytes, content_type: str) -> dict[str, str]:
    """Query string, then the body (form or multipart) on top; first value of each name."""
    fields: dict[str, str] = {}
    pairs = parse_qsl(query, keep_blank_values=True)
    if content_type.lower().startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if name and isinstance(payload, bytes):
                pairs.append((str(name), payload.decode("utf-8", "replace")))
    elif body:
        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a real panel's backlog, not the stdlib's 5: bursts of connections are not dropped
    sandbox: SandboxProvider


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SandboxPanel/1"
    sys_version = ""

    def handle(self) -> None:
        if self.server.sandbox._drop_on_connect():
            self.close_connection = True
            return  # nothing read; the server closes the socket
        super().handle()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a GET request line carries the API key."""

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.send_json({"error": "Incorrect request"}, status=413)
            return
        body = self.rfile.read(length)
        if path.rstrip("/") != API_PATH:
            self.send_json({"error": "Not found"}, status=404)
            return
        fields = _fields(query, body, self.headers.get("Content-Type", ""))
        self.server.sandbox._respond(self, self.command, fields)

    def send_json(self, answer: Any, status: int = 200) -> None:
        self.send_body(json.dumps(answer, ensure_ascii=False).encode(), "application/json", status)

    def send_body(self, body: bytes, content_type: str, status: int = 200) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timed out) before the answer came
            self.close_connection = True


class SandboxProvider(Startable):
    """A fake SMM panel on ``http://127.0.0.1:<free port>/api/v2``; ``start()``/``stop()`` or ``with``."""

    def __init__(
        self,
        *,
        api_key: str = "sandbox-key",
        services: Sequence[SandboxService] = DEFAULT_SERVICES,
        faults: Sequence[FaultRule] = (),
        clock: Callable[[], float] = time.time,
        simulation: Simulation | None = None,
        balance: Decimal = Decimal("1000.00"),
        currency: str = "USD",
        seed: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.panel = SmmPanel(
            api_key=api_key, services=services, simulation=simulation, balance=balance, currency=currency, clock=clock
        )
        self.clock = clock
        self.host = host
        self._faults = _Faults(faults, seed)
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._serving: ServingThread | None = None
        self._stopping = threading.Event()

    # -- life cycle ----------------------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._serving is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, 0), _Handler)
        server.sandbox = self
        self._serving = ServingThread(server, "sandbox-smm-provider")
        return self

    def stop(self) -> None:
        """Stop serving; requests held back (latency, late answers) are released. The port is free afterwards."""
        serving, self._serving = self._serving, None
        if serving is None:
            return
        self._stopping.set()
        serving.close()

    @property
    def url(self) -> str:
        if self._serving is None:
            raise RuntimeError("the sandbox provider is not running: call start()")
        return f"http://{self.host}:{self._serving.port}{API_PATH}"

    # -- what tests look at --------------------------------------------------------------------------------------

    @property
    def orders(self) -> tuple[SandboxOrder, ...]:
        """Every accepted ``add``, in order."""
        return self.panel.orders

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        with self._lock:
            return tuple(self._requests)

    @property
    def balance(self) -> Decimal:
        return self.panel.balance()

    def top_up(self, amount: Decimal) -> None:
        self.panel.top_up(amount)

    def set_services(self, services: Sequence[SandboxService]) -> None:
        self.panel.set_services(services)

    def set_faults(self, rules: Sequence[FaultRule]) -> None:
        """Replace the fault rules (their ``times`` counts start afresh)."""
        self._faults.replace(rules)

    # -- serving -------------------------------------------------------------------------------------------------

    def _record(self, method: str, action: str | None, fields: Mapping[str, str], fault: Fault | None) -> None:
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    number=len(self._requests) + 1,
                    at=self.clock(),
                    method=method,
                    action=action,
                    fields={name: value for name, value in fields.items() if name != "key"},
                    key_matched=fields.get("key") == self.panel.api_key,
                    fault=fault,
                )
            )

    def _drop_on_connect(self) -> bool:
        rule = self._faults.pick(None, on_connect=True)
        if rule is not None:
            self._record("?", None, {}, rule.fault)
        return rule is not None

    def _respond(self, handler: _Handler, method: str, fields: dict[str, str]) -> None:
        action = fields.get("action")
        rule = self._faults.pick(action, on_connect=False)
        self._record(method, action, fields, rule.fault if rule else None)
        if rule is None:
            handler.send_json(self.panel.answer(fields))
            return
        match rule.fault:
            case Fault.LATENCY:
                self._stopping.wait(rule.seconds)
                handler.send_json(self.panel.answer(fields))
            case Fault.TIMEOUT_AFTER_ACCEPT:
                answer = self.panel.answer(fields)
                self._stopping.wait(rule.seconds)
                handler.send_json(answer)
            case Fault.SERVER_ERROR:
                if rule.after_processing:
                    self.panel.answer(fields)
                handler.send_json({"error": "Internal Server Error"}, status=rule.status or 500)
            case Fault.HTML_ERROR:
                if rule.after_processing:
                    self.panel.answer(fields)
                handler.send_body(HTML_PAGE.encode(), "text/html; charset=utf-8", status=rule.status or 502)
            case Fault.NOT_ENOUGH_FUNDS:
                handler.send_json({"error": NOT_ENOUGH_FUNDS})
            case Fault.ACTIVE_ORDER:
                handler.send_json({"error": ACTIVE_ORDER})
            case Fault.DROP_BEFORE_READ:
                handler.close_connection = True
            case Fault.DROP_AFTER_ACCEPT:
                self.panel.answer(fields)
                handler.close_connection = True
