"""Errors, mapped once: problem details (RFC 9457) for JSON clients, a friendly page for browsers."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from app import i18n
from app.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.i18n import N_
from app.web.templating import render

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"

HTTP_TITLES = {
    400: N_("Bad request"),
    401: N_("Login required"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    413: N_("Request too large"),
    429: N_("Too many requests"),
}


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith(("/api/", "/webhooks/"))


def _problem(
    request: Request[Any, Any, Any], status: int, title: str, detail: str, extra: dict[str, Any] | None = None
) -> Response[Any]:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if _wants_html(request):
        return render(
            request,
            "error.html",
            status_code=status,
            title=i18n.gettext(title),
            message=detail,
            request_id=request_id,
        )
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if request_id:
        body["request_id"] = request_id
    body.update(extra or {})
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


# The one place a domain refusal becomes an HTTP status (most specific class first).
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (ValidationFailed, 422),
    (PermissionDenied, 403),
    (InvalidTransition, 409),
    (Conflict, 409),
    (DomainError, 400),
)


def domain_status(exc: DomainError) -> int:
    return next(status for cls, status in DOMAIN_STATUS if isinstance(exc, cls))


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    extra: dict[str, Any] = {"code": exc.code}
    if isinstance(exc, ValidationFailed):
        extra["errors"] = exc.field_errors(i18n.gettext)
    return _problem(request, domain_status(exc), exc.title, exc.translated(i18n.gettext), extra)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    title = HTTP_TITLES.get(exc.status_code, N_("Request refused"))
    detail = exc.detail if exc.detail and exc.detail != title else i18n.gettext("Please check the address.")
    extra = {"errors": exc.extra} if isinstance(exc, ValidationException) and exc.extra else None
    return _problem(request, exc.status_code, title, str(detail), extra)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", path=request.url.path, error=type(exc).__name__)
    return _problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        N_("Something went wrong"),
        i18n.gettext("We could not complete your request. Please try again in a moment."),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
