"""The fake Stripe's HTTP side: a threaded stdlib server, the API dispatch and the hosted pages' actions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import structlog

from app.i18n import negotiate_locale
from app.sandbox.stripe_api import ApiResponse
from app.sandbox.stripe_pages import checkout_page, message_page, portal_page
from app.sandbox.stripe_wire import API_VERSION, ApiError

if TYPE_CHECKING:
    from app.sandbox.stripe import FakeStripe

log = structlog.get_logger("app.sandbox.stripe")


@dataclass
class PageResponse:
    status: int
    html: str = ""
    location: str | None = None


def handle_page(fake: FakeStripe, method: str, path: str, accept_language: str | None) -> PageResponse:
    fallback = negotiate_locale(None, None, accept_language)
    try:
        if match := re.fullmatch(r"/checkout/([A-Za-z0-9_]+)(/pay|/cancel)?", path):
            return _checkout_page(fake, method, match.group(1), match.group(2), fallback)
        if match := re.fullmatch(r"/billing_portal/([A-Za-z0-9_]+)(?:/cancel/([A-Za-z0-9_]+))?", path):
            return _portal_page(fake, method, match.group(1), match.group(2), fallback)
    except ApiError:
        return PageResponse(404, message_page(fallback, "missing"))
    return PageResponse(404, message_page(fallback, "missing"))


def _checkout_page(fake: FakeStripe, method: str, session_id: str, action: str | None, fallback: str) -> PageResponse:
    with fake.lock:
        session = fake.state.session(session_id)
        locale = session["locale"] if session["locale"] in ("de", "en") else fallback
        items = list(fake.state.line_items[session_id])
    if action is None and method == "GET":
        return PageResponse(200, checkout_page(session, items, locale))
    if method != "POST":
        return PageResponse(405, message_page(locale, "missing"))
    if action == "/cancel":
        return _redirect(session["cancel_url"]) or PageResponse(200, message_page(locale, "canceled"))
    try:
        fake.pay(session_id)
    except ApiError:  # paid or expired meanwhile (a second click)
        return PageResponse(409, message_page(locale, "closed", status=fake.state.session(session_id)["status"]))
    success = session["success_url"]
    if success:
        return PageResponse(303, location=success.replace("{CHECKOUT_SESSION_ID}", session_id))
    return PageResponse(200, message_page(locale, "paid"))


def _portal_page(fake: FakeStripe, method: str, portal_id: str, cancel: str | None, fallback: str) -> PageResponse:
    with fake.lock:
        portal = fake.state.portal_sessions.get(portal_id)
        if portal is None:
            raise ApiError(404, "no such portal session")
        locale = portal["locale"] if portal["locale"] in ("de", "en") else fallback
        customer = portal["customer"]
        running = [
            item
            for item in fake.state.subscriptions.values()
            if item["customer"] == customer and item["status"] != "canceled"
        ]
    if cancel is None and method == "GET":
        return PageResponse(200, portal_page(portal, running, locale))
    if method != "POST" or cancel is None or cancel not in {item["id"] for item in running}:
        return PageResponse(404, message_page(locale, "missing"))
    fake.cancel_subscription(cancel)
    return PageResponse(303, location=f"/billing_portal/{portal_id}")


def _redirect(url: str | None) -> PageResponse | None:
    return PageResponse(303, location=url) if url else None


class FakeStripeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeStripe) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: FakeStripeServer
    server_version = "FakeStripe/1.0"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox stripe request", line=format % args)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        fake = self.server.fake
        try:
            if parts.path.startswith("/v1/"):
                headers = httpx.Headers(list(self.headers.items()))
                self._send_api(fake.handle_api(method, parts.path, parts.query, body, headers))
            else:
                self._send_page(handle_page(fake, method, parts.path, self.headers.get("Accept-Language")))
        except Exception:
            log.exception("sandbox stripe failed", method=method, path=parts.path)
            error = ApiError(500, "An unknown error occurred in the sandbox", type="api_error")
            self._send_api(ApiResponse(500, error.body()))

    def _send_api(self, response: ApiResponse) -> None:
        payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Stripe-Version", API_VERSION)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_page(self, response: PageResponse) -> None:
        payload = response.html.encode()
        self.send_response(response.status)
        if response.location:
            self.send_header("Location", response.location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Robots-Tag", "noindex")
        self.end_headers()
        self.wfile.write(payload)
