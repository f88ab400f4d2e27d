"""CSRF protection for the public forms: a POST must come from a page of this site.

The storefront has no login to ride on, and its pages are the same for every visitor (so they can be cached),
which rules out per-visitor tokens in the HTML. Browsers say where a request comes from instead: every
browser that runs scripts sends ``Sec-Fetch-Site`` and/or ``Origin`` on a cross-site POST, and neither header
can be set by a page. A request whose headers name another site is refused; a request with neither (a very old
browser, curl) is let through, since it cannot have been forged by another site's page in a modern browser.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler

ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


def same_origin(headers: Any, scheme: str, host: str | None) -> bool:
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ALLOWED_FETCH_SITES:
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme == scheme and (parts.netloc or "").lower() == (host or "").lower()


def require_same_origin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not same_origin(connection.headers, connection.url.scheme, connection.headers.get("host")):
        raise PermissionDeniedException("This form was sent from another site. Please use the form on our page.")
