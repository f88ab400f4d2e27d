"""``POST /webhooks/stripe``: verify the signature on the raw body, then record and handle the event once.

Answers: 200 for a processed, duplicate or ignored event; 400 (problem details) when the signature or body is
bad — nothing is stored; 503 when no payment processor is configured; 500 when handling failed — the event row
keeps the error for staff and Stripe delivers it again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from litestar import Request, Response, post
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import session_factory
from app.payments.gateway import InvalidWebhook, PaymentGateway
from app.payments.webhooks import handle_event, record_failure
from app.uow import unit_of_work
from app.web.errors import PROBLEM_JSON

log = structlog.get_logger(__name__)

# Deliveries one process handles at once; the others wait for a slot before opening their transaction. A paid
# event ends holding the invoice number's row lock until it commits (``app.invoicing.numbering``), so payments
# commit one at a time; with every delivery in flight at once, the holder's commit waited in the event loop
# behind the others' work, and all payments queued behind it. ``bench/webhooks.py`` (32 in flight, 2 processes):
# 0.44-0.47 of the bare endpoint unbounded, 0.50 with 8 slots, 0.62 with 2 or 3, 0.61-0.70 with 4.
DELIVERY_SLOTS = 4


def delivery_slots() -> asyncio.Semaphore:
    """The bound on deliveries handled at once, made once per app (``app.state.webhook_slots``)."""
    return asyncio.Semaphore(DELIVERY_SLOTS)


def _problem(status: int, title: str, detail: str) -> Response[Any]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


@post("/webhooks/stripe", include_in_schema=False, status_code=200)
async def stripe_webhook(request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Response[Any]:
    gateway: PaymentGateway | None = request.app.state.get("payment_gateway")
    if gateway is None:
        return _problem(503, "Payments not configured", "No payment processor is configured.")
    payload = await request.body()
    try:
        event = gateway.parse_webhook(payload, request.headers.get("stripe-signature"))
    except InvalidWebhook as exc:
        log.warning("webhook refused", reason=str(exc))
        return _problem(400, "Invalid webhook", str(exc))
    sessions = session_factory(db_engine)
    slots: asyncio.Semaphore = request.app.state.webhook_slots
    try:
        async with slots, unit_of_work(sessions) as uow:
            handled = await handle_event(uow, event)
    except Exception as exc:
        log.exception("webhook failed", event_id=event.id, event_type=event.type)
        async with unit_of_work(sessions) as uow:
            await record_failure(uow, event, f"{type(exc).__name__}: {exc}")
        return _problem(500, "Webhook failed", "The event was recorded and will be processed on redelivery.")
    # On the request's own access line (app/web/middleware.py): one log write per delivery, not two.
    structlog.contextvars.bind_contextvars(event_id=event.id, event_type=event.type, handled=handled.value)
    return Response({"received": True, "handled": handled.value}, status_code=200)
