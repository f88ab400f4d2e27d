"""The portal's session: a signed cookie apart from the back office's, naming the customer and their session
version, plus the CSRF token the portal's forms carry.

The cookie is signed (itsdangerous, with the app's secret key and its own salt) and expires after
``SESSION_MAX_AGE``; the version must still be the customer's ``portal_session_version``, so a logout (which
raises it) or an erasure ends every copy of the cookie at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from litestar import Request, Response

from app.config import get_settings
from app.errors import PermissionDenied
from app.i18n import N_
from app.portal.commands import PortalLogin

PORTAL_COOKIE = "smplat_portal"
SESSION_MAX_AGE = 14 * 24 * 3600
SALT = "smplat.portal-session"
CSRF_FIELD = "csrf_token"
MAX_COOKIE = 500


@dataclass(frozen=True)
class PortalSession:
    customer_id: int
    version: int
    csrf_token: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=SALT)


def read_session(request: Request[Any, Any, Any]) -> PortalSession | None:
    raw = request.cookies.get(PORTAL_COOKIE, "")
    if not raw or len(raw) > MAX_COOKIE:
        return None
    try:
        data = _serializer().loads(raw, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    customer_id, version, csrf = data.get("c"), data.get("v"), data.get("t")
    if not isinstance(customer_id, int) or not isinstance(version, int) or not isinstance(csrf, str):
        return None
    return PortalSession(customer_id=customer_id, version=version, csrf_token=csrf)


def start_session(response: Response[Any], login: PortalLogin) -> None:
    """A fresh session cookie (and CSRF token) for the customer who just logged in."""
    value = _serializer().dumps({"c": login.customer_id, "v": login.session_version, "t": secrets.token_urlsafe(24)})
    response.set_cookie(
        PORTAL_COOKIE,
        value,
        max_age=SESSION_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().base_url.startswith("https://"),
    )


def end_session(response: Response[Any]) -> None:
    response.delete_cookie(PORTAL_COOKIE, path="/")


def check_csrf(session: PortalSession, data: dict[str, str]) -> None:
    """Refuse a portal form that does not carry this session's token (PermissionDenied: nothing changes)."""
    supplied = data.get(CSRF_FIELD, "")
    if not hmac.compare_digest(session.csrf_token.encode(), supplied.encode()):
        raise PermissionDenied(N_("This form has expired. Please reload the page and try again."))
