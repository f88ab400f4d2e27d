"""Security headers, added to every response by the edge middleware (app/web/middleware.py).

Scripts come only from our own origin (``/static``, ``/admin/statics``): no inline script anywhere, so none
of our templates, nor SQLAdmin's (its toast script is overridden in admin/templates/sqladmin/flash.html),
may carry a ``<script>`` without ``src`` or an ``on…=`` attribute. Inline *styles* stay allowed: SQLAdmin's
widgets (select2, flatpickr, progress bars) set ``style`` attributes.

A page may choose its own referrer policy or CSP by setting the header itself: the edge keeps what a response
already carries for those two (e.g. the tracking page: ``headers={"Referrer-Policy": PRIVATE_PAGE_REFERRER}``). The
other headers are always the edge's.
"""

from __future__ import annotations


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """The policy for every page; ``form_targets``: other origins a form may lead to (the payment page that
    ``POST /checkout`` redirects to — browsers apply ``form-action`` to a form's redirects too)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(["form-action 'self'", *form_targets]),
            "frame-ancestors 'none'",
        ]
    )


REFERRER_POLICY = "strict-origin-when-cross-origin"
# For pages whose URL is a secret (tracking and payment links): sent as referrer to this site only. Not
# "no-referrer": under it browsers send "Origin: null" with the page's own form posts, which the same-origin
# guard of those forms must refuse (a sandboxed page of another site sends the same).
PRIVATE_PAGE_REFERRER = "same-origin"
HSTS = "max-age=31536000"

ADMIN_PREFIX = "/admin"
ADMIN_STATICS = "/admin/statics/"


def is_admin_page(path: str) -> bool:
    """Back-office pages (not its static files) are personal and must not be kept in any cache."""
    return (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")) and not path.startswith(ADMIN_STATICS)


def with_security_headers(
    headers: list[tuple[bytes, bytes]], *, path: str, hsts: bool, csp: str
) -> list[tuple[bytes, bytes]]:
    """``headers`` of a response with the security headers set (see the module docstring for which win)."""
    always: dict[bytes, bytes] = {
        b"x-content-type-options": b"nosniff",
        b"x-frame-options": b"DENY",
    }
    if hsts:
        always[b"strict-transport-security"] = HSTS.encode()
    if is_admin_page(path):
        always[b"cache-control"] = b"no-store"
    defaults: dict[bytes, bytes] = {
        b"content-security-policy": csp.encode(),
        b"referrer-policy": REFERRER_POLICY.encode(),
    }
    kept = [(name, value) for name, value in headers if name.lower() not in always]
    present = {name.lower() for name, _ in kept}
    kept += [(name, value) for name, value in defaults.items() if name not in present]
    kept += list(always.items())
    return kept


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``: never a redirect to another host.

    Browsers read ``//host``, ``/\\host`` and paths with control characters as links to other sites.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(char == "\\" or ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    return target
