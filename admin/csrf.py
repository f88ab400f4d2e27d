"""CSRF protection for every state-changing admin request (double-submit against the signed session).

Pages carry the token in ``<meta name="csrf-token">``; a small script adds it to every POST form and to
fetch/jQuery requests. The middleware refuses any unsafe method without the matching token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_KEY = "csrf_token"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 10 * 1024 * 1024


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return str(token)


def _form_token(body: bytes, content_type: str) -> str | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FIELD)
        return values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        marker = f'name="{FIELD}"'.encode()
        start = body.find(marker)
        if start == -1:
            return None
        value_start = body.find(b"\r\n\r\n", start) + 4
        value_end = body.find(b"\r\n", value_start)
        return body[value_start:value_end].decode("latin-1") if value_start > 3 and value_end > 0 else None
    return None


class CSRFMiddleware:
    """Runs inside the admin app, after the session middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get(SESSION_KEY)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_FORM_BYTES:
                await PlainTextResponse("Request too large", status_code=413)(scope, receive, send)
                return
        supplied = headers.get(HEADER) or _form_token(body, headers.get("content-type", ""))
        if not expected or not supplied or not hmac.compare_digest(str(expected), supplied):
            response = PlainTextResponse(
                "This form has expired or did not come from this site. Reload the page and try again.",
                status_code=403,
            )
            await response(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            message: Message = await receive()
            return message

        await self.app(scope, replay, send)


def template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token}
