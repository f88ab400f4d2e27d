"""How states and event kinds read in the back office, in German and English (badges, filters, timelines)."""

from __future__ import annotations

from typing import Any

from admin.i18n import admin_gettext
from app import states
from app.i18n import N_


def state_label(value: Any) -> str:
    """A state of any machine (see app/states.py), in the staff member's language."""
    return states.label(value).render(admin_gettext)


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
    text = str(getattr(value, "value", value))
    return admin_gettext(EVENT_LABELS.get(text, text.replace("_", " ")))
