"""How states read in the back office, in German and English (badges, filters)."""

from __future__ import annotations

from typing import Any

from admin.i18n import admin_gettext
from app.i18n import N_

STATE_LABELS = {
    "pending_payment": N_("pending payment"),
    "paid": N_("paid"),
    "in_fulfillment": N_("in fulfillment"),
    "completed": N_("completed"),
    "partially_completed": N_("partially completed"),
    "canceled": N_("canceled"),
    "expired": N_("expired"),
    "unpaid": N_("unpaid"),
    "partially_refunded": N_("partially refunded"),
    "refunded": N_("refunded"),
    "disputed": N_("disputed"),
    "awaiting_payment": N_("awaiting payment"),
    "queued": N_("queued"),
    "dispatching": N_("dispatching"),
    "dispatched": N_("dispatched"),
    "in_progress": N_("in progress"),
    "partial": N_("partial"),
    "on_hold": N_("on hold"),
    "dispatch_unknown": N_("dispatch unknown"),
    "needs_review": N_("needs review"),
    "failed": N_("failed"),
    "pending": N_("pending"),
    "succeeded": N_("succeeded"),
    "active": N_("active"),
    "inactive": N_("inactive"),
    "incomplete": N_("incomplete"),
    "past_due": N_("past due"),
    "paused": N_("paused"),
    "requested": N_("requested"),
    "sent": N_("sent"),
    "rejected": N_("rejected"),
}


def _label(labels: dict[str, str], value: Any) -> str:
    text = str(getattr(value, "value", value))
    return admin_gettext(labels.get(text, text.replace("_", " ")))


def state_label(value: Any) -> str:
    return _label(STATE_LABELS, value)


EVENT_LABELS = {
    "created": N_("created"),
    "status": N_("order status"),
    "payment_status": N_("payment status"),
    "line_status": N_("line status"),
    "note": N_("note"),
    "provider": N_("provider"),
    "notification": N_("notification"),
}


def event_label(value: Any) -> str:
    return _label(EVENT_LABELS, value)
