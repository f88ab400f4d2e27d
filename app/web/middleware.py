"""The edge: one ASGI middleware around the whole app (storefront, admin mount, static files, unrouted 404s).

For every HTTP request, before routing, in this order:

1. a request id (kept from ``X-Request-ID`` when well-formed) on every log line and on the response;
2. proxy headers, believed from ``SMPLAT_TRUSTED_PROXIES`` only: the real client address goes into
   ``scope["client"]`` (so ``request.client`` is the client everywhere: login throttle, audit rows, log),
   ``X-Forwarded-Proto`` into ``scope["scheme"]`` and ``X-Forwarded-Host`` into the ``Host`` header, so
   URLs the app builds (redirects, form actions) have the scheme and host the browser used;
3. the ``Host`` must be one of ``SMPLAT_ALLOWED_HOSTS`` (except for ``/health`` and ``/ready``, which load
   balancers call by address), else 400;
4. NUL characters (PostgreSQL refuses them in text) in the path, the query or a form body: 400, before any
   handler sees the request;
5. security headers on the response (app/web/security.py);
6. one access-log line with the path as the client sent it, the status, the time taken and the client.

It wraps Litestar's own handler (``app.asgi_handler``), inside which routing and the error pages happen, so
unrouted requests pass through it as well.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any

import structlog

from app import i18n
from app.config import Settings
from app.i18n import N_
from app.web.proxy import Proxies, first_value, host_allowed, parse_ip
from app.web.security import content_security_policy, with_security_headers

log = structlog.get_logger("smplat.request")

# Plain ASGI: the edge runs before Litestar has made anything of the request.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")
UNCHECKED_HOST_PATHS = frozenset({"/health", "/ready"})
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
MAX_FORM_BYTES = 10 * 1024 * 1024
SCHEMES = frozenset({"http", "https"})

NUL_REFUSED = N_("Bad request: the request contains a NUL character, which is not allowed. Remove it and try again.")
HOST_REFUSED = N_("Bad request: this server does not answer for the requested host name.")
TOO_LARGE = N_("Request too large")


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


def _cookie(scope: Scope, name: str) -> str | None:
    for value in _header_values(scope, b"cookie"):
        try:
            jar: SimpleCookie = SimpleCookie(value)
        except CookieError:
            continue
        if name in jar:
            return jar[name].value
    return None


def _has_nul_in_multipart(body: bytes, content_type: bytes) -> bool:
    """A NUL in any part that is not an uploaded file (files may be binary)."""
    match = re.search(rb'boundary="?([^";]+)"?', content_type)
    if not match:
        return b"\x00" in body
    for part in body.split(b"--" + match.group(1)):
        head, _, _content = part.partition(b"\r\n\r\n")
        if b"filename=" not in head.lower() and b"\x00" in part:
            return True
    return False


def form_has_nul(body: bytes, content_type: bytes) -> bool:
    if content_type.startswith(b"multipart/form-data"):
        return _has_nul_in_multipart(body, content_type)
    return b"\x00" in body or b"%00" in body  # url-encoded: a typed NUL arrives as %00


class EdgeMiddleware:
    def __init__(self, app: Any, settings: Settings, *, language_cookies: Callable[[str], tuple[str, ...]]) -> None:
        self.app = app
        self.proxies = Proxies(settings.trusted_proxy_networks)
        self.host_patterns = settings.host_patterns
        self.hsts = settings.is_prod
        self.csp = content_security_policy(settings.checkout_origins)
        self.language_cookies = language_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"")
        request_id = incoming.decode() if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # Routing rewrites scope["path"] (the admin mount sees it without /admin): keep what the client sent.
        raw_path = (scope.get("raw_path") or b"").split(b"?", 1)[0].decode("latin-1") or scope.get("path", "")
        path = scope.get("path", "")
        method = scope.get("method")
        status = 500
        started = time.perf_counter()
        self._apply_proxy_headers(scope)

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = with_security_headers(
                    list(message.get("headers", [])), path=path, hsts=self.hsts, csp=self.csp
                )
                message["headers"] = [*headers, (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            refusal, receive = await self._check(scope, receive, path)
            if refusal is not None:
                await self._refuse(scope, send_with_headers, path, *refusal)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            client = scope.get("client")
            log.info(
                "request",
                method=method,
                path=raw_path,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                client=client[0] if client else None,
            )
            structlog.contextvars.clear_contextvars()

    def _apply_proxy_headers(self, scope: Scope) -> None:
        peer = scope.get("client")
        if not self.proxies.networks or not peer or not self.proxies.trusts(parse_ip(peer[0])):
            return
        client = self.proxies.client_address(peer[0], _header_values(scope, b"x-forwarded-for"))
        if client and client != peer[0]:
            scope["client"] = (client, 0)
        proto = (first_value(_header_values(scope, b"x-forwarded-proto")) or "").lower()
        if proto in SCHEMES:
            scope["scheme"] = proto
        forwarded_host = first_value(_header_values(scope, b"x-forwarded-host"))
        if forwarded_host:
            headers = [(key, value) for key, value in scope["headers"] if key != b"host"]
            scope["headers"] = [*headers, (b"host", forwarded_host.encode("latin-1"))]

    async def _check(self, scope: Scope, receive: Receive, path: str) -> tuple[tuple[int, str] | None, Receive]:
        """A refusal (status, message) or None, and the receive callable the app should read the body from."""
        if path not in UNCHECKED_HOST_PATHS:
            hosts = _header_values(scope, b"host")
            if not host_allowed(hosts[0] if len(hosts) == 1 else None, self.host_patterns):
                return (400, HOST_REFUSED), receive
        query = scope.get("query_string", b"")
        if "\x00" in path or b"%00" in query or b"\x00" in query:
            return (400, NUL_REFUSED), receive
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        if not content_type.startswith(FORM_TYPES):
            return None, receive
        return await self._check_form(receive, content_type)

    async def _check_form(self, receive: Receive, content_type: bytes) -> tuple[tuple[int, str] | None, Receive]:
        body = b""
        last: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                last = message  # the client went away: hand that on
                break
            body += message.get("body", b"")
            if len(body) > MAX_FORM_BYTES:
                return (413, TOO_LARGE), receive
            if not message.get("more_body", False):
                break
        if form_has_nul(body, content_type):
            return (400, NUL_REFUSED), receive
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return last or {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return None, replay

    async def _refuse(self, scope: Scope, send: Send, path: str, status: int, message: str) -> None:
        cookies = [_cookie(scope, name) for name in self.language_cookies(path)]
        accept_language = ", ".join(_header_values(scope, b"accept-language")) or None
        locale = i18n.negotiate_locale(None, next((value for value in cookies if value), None), accept_language)
        body = i18n.translations(locale).gettext(message).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
