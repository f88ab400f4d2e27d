"""The fast way to a cached page: ``GET /``, ``/services``, ``/services/{slug}`` and ``/track/{token}`` answered
before routing.

A plain ASGI layer inside the edge middleware (which still adds the request id, checks the host, refuses NULs,
sets the security headers and writes the access line) and in front of Litestar's router. On a hit it sends the
stored HTML itself (gzip when the browser takes it); the language is chosen exactly as ``set_request_locale``
chooses it, and landing and service views go to the funnel buffer with the visitor's cookie id. Anything else — another
method or path, a page not yet rendered or rendered for an older catalog, the catalog version unreadable — goes
on to Litestar, whose handlers (storefront/controllers.py) render the page and store it.

Why here and not in the handler: Litestar's routing, dependency injection and response objects cost several
times what serving a stored page costs; these are the pages everybody lands on, and the tracking page its
client's script and browser ask for again and again (stored per order stamp: storefront/tracking_pages.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import structlog
from litestar.datastructures import Accept
from sqlalchemy.ext.asyncio import AsyncEngine

from app import i18n
from app.analytics import funnel
from app.analytics.funnel import FunnelBuffer
from app.analytics.models import FunnelKind
from storefront.page_cache import SERVICE_PAGES, CachedPage, PageCache, PageStore, platform_filter
from storefront.tracking import JSON, MAX_TOKEN, NOTICES, PRIVATE_HEADERS
from storefront.tracking_pages import TrackingPageKey, stored_page

log = structlog.get_logger(__name__)

PAGES = frozenset({"/", "/services"})
LANDING = "/"
VIEWS = {LANDING: FunnelKind.LANDING_VIEW}
HTML = b"text/html; charset=utf-8"
PREFILL_PARAMETERS = frozenset({"link", "quantity"})
TRACKING_PAGES = "/track/"
TEXT_HTML = "text/html"
# The tracking handler's private headers; Vary is sent with the encoding's.
TRACKING_HEADERS = [
    (name.lower().encode(), value.encode()) for name, value in PRIVATE_HEADERS.items() if name != "Vary"
]


def parse_cookies(header: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in cookies:
            cookies[name] = value.strip('"')
    return cookies


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def encoded(page: CachedPage, accept_encoding: str, *, vary: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """A stored page's body (gzip when the browser takes it) and its content headers."""
    gzipped = "gzip" in accept_encoding
    body = page.answer(gzipped=gzipped)
    headers = [(b"content-type", HTML), (b"content-length", str(len(body)).encode()), (b"vary", vary)]
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    return body, headers


def tracking_token_of(path: str) -> str | None:
    """The token of a tracking page's path ``/track/{token}``; None for any other path."""
    if not path.startswith(TRACKING_PAGES):
        return None
    token = path[len(TRACKING_PAGES) :]
    return token if token and "/" not in token else None


@dataclass(frozen=True, slots=True)
class Asked:
    """What a request asks for, as the handlers would read it: its query, cookies, language and encodings."""

    query: dict[str, list[str]]
    cookies: dict[str, str]
    locale: str
    accept_encoding: str
    accept: str

    @property
    def wants_json(self) -> bool:
        """The tracking handler's choice (storefront/tracking.py ``wants_json``) between its page and JSON view."""
        return bool(self.accept) and Accept(self.accept).best_match([TEXT_HTML, JSON], default=TEXT_HTML) == JSON

    @classmethod
    def of(cls, scope: Any) -> Asked:
        cookie_header = accept_language = accept_encoding = accept = ""
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie_header += ";" + value.decode("latin-1")
            elif name == b"accept-language":
                accept_language = value.decode("latin-1")
            elif name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
        raw_query = scope.get("query_string", b"")
        query = parse_qs(raw_query.decode("latin-1")) if raw_query else {}
        cookies = parse_cookies(cookie_header) if cookie_header else {}
        locale = i18n.negotiate_locale(_first(query, "lang"), cookies.get("lang"), accept_language or None)
        return cls(query, cookies, locale, accept_encoding, accept)


class CachedPages:
    def __init__(
        self,
        app: Any,
        cache: PageCache,
        engine: Callable[[], AsyncEngine],
        funnel_buffer: FunnelBuffer,
        tracking: PageStore[TrackingPageKey],
    ) -> None:
        self.app = app
        self.cache = cache
        self.engine = engine
        self.funnel = funnel_buffer
        self.tracking = tracking

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        token = tracking_token_of(path)
        if token is not None:
            await self.tracking_page(scope, receive, send, token)
            return
        if path not in PAGES and not (path.startswith(SERVICE_PAGES) and "/" not in path[len(SERVICE_PAGES) :]):
            await self.app(scope, receive, send)
            return
        asked = Asked.of(scope)
        query, cookies, locale, accept_encoding = asked.query, asked.cookies, asked.locale, asked.accept_encoding
        if PREFILL_PARAMETERS.intersection(query):  # a form filled for this visitor: never from the cache
            await self.app(scope, receive, send)
            return
        platform = platform_filter(_first(query, "platform")) if path == "/services" else None
        try:
            version = await self.cache.watch.current(self.engine())
        except Exception:  # the router's handler answers (and shows the error page if the database is away)
            log.warning("catalog version unreadable; page rendered by the handler", exc_info=True)
            await self.app(scope, receive, send)
            return
        page = self.cache.get((path, platform, locale), version)
        if page is None:
            await self.app(scope, receive, send)
            return
        body, headers = encoded(page, accept_encoding, vary=b"Accept-Encoding")
        kind = FunnelKind.SERVICE_VIEW if page.service_id is not None else VIEWS.get(path)
        if kind is not None:
            visitor_id = funnel.valid_visitor_id(cookies.get(funnel.VISITOR_COOKIE))
            if visitor_id is None:
                visitor_id = funnel.new_visitor_id()
                cookie = funnel.visitor_cookie(visitor_id, secure=scope.get("scheme") == "https")
                headers.append((b"set-cookie", cookie.encode("latin-1")))
            self.funnel.record(kind, visitor_id, page.service_id)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def tracking_page(self, scope: Any, receive: Any, send: Any, token: str) -> None:
        """A tracking page from its store while its order's stamp and the minute hold (one statement); anything
        else — the JSON view, a notice the handler does not know, an unknown token, a page to render — goes on to
        Litestar (storefront/tracking.py), which answers and stores the page."""
        asked = Asked.of(scope)
        notices = asked.query.get("notice", [])
        notice = notices[0] if notices else ""
        if asked.wants_json or len(notices) > 1 or (notice and notice not in NOTICES):
            await self.app(scope, receive, send)
            return
        key = (token, asked.locale, notice)
        try:
            _version, page = await stored_page(self.tracking, self.engine(), key, token[:MAX_TOKEN])
        except Exception:  # the handler answers (and shows the error page if the database is away)
            log.warning("tracking stamp unreadable; page rendered by the handler", exc_info=True)
            page = None
        if page is None:
            await self.app(scope, receive, send)
            return
        body, headers = encoded(page, asked.accept_encoding, vary=b"Accept, Accept-Encoding")
        headers += [
            (name.lower().encode(), value.encode()) for name, value in PRIVATE_HEADERS.items() if name != "Vary"
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
