"""The one statement that numbers an invoice: everything that must know the number is written with it.

The series' row in ``invoice_sequence`` stays locked from this statement to commit, and every other issue of the
series waits for it. So the number is taken last, and in the same statement as the invoice row, its PDF job and
the timeline and audit rows that name it: after it only the commit remains. The rows are made by the usual
helpers (``record_event``, ``UnitOfWork.audit``), taken out of the session and sent here with the invoice's id and
number filled in by the database.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from app.audit.models import AuditLog
from app.i18n import N_
from app.invoicing.models import SERIES, Invoice, InvoiceKind
from app.orders.event_notes import NOTE_KEY
from app.orders.models import OrderEvent

RENDER_TASK = "invoicing.render_pdf"
RENDER_QUEUE = "invoicing"
RENDER_LOCK_PREFIX = "invoice-pdf:"
# The timeline's note, in English in ``note`` and as its catalog id with the number in ``data`` (the viewer's
# language: app/orders/event_notes.py).
ISSUED_NOTE = N_("invoice %(number)s issued")

# What the caller gives; the number, the id and the creation time come from the database.
_INVOICE_VALUES = {
    "kind": "text",
    "order_id": "bigint",
    "customer_id": "bigint",
    "issued_at": "timestamptz",
    "service_from": "date",
    "service_to": "date",
    "locale": "text",
    "seller": "jsonb",
    "buyer": "jsonb",
    "lines": "jsonb",
    "tax_rates": "jsonb",
    "currency": "text",
    "net": "numeric",
    "tax": "numeric",
    "gross": "numeric",
    "tax_treatment": "text",
    "legal_note": "text",
    "legal_note_translation": "text",
    "payment": "jsonb",
    "replaces_invoice_id": "bigint",
}
_RETURNED = ", ".join(column.name for column in Invoice.__table__.c)
_DIGITS = "greatest(6, length(last_number::text))"  # RE-2026-000123; a millionth invoice gets a seventh digit

_ISSUE_ROWS = (
    "WITH numbered AS (INSERT INTO invoice_sequence (series, year, last_number) VALUES (:series, :year, 1)"
    " ON CONFLICT (series, year) DO UPDATE SET last_number = invoice_sequence.last_number + 1"
    f" RETURNING CAST(:prefix AS text) || lpad(last_number::text, {_DIGITS}, '0') AS number),"
    f" issued AS (INSERT INTO invoice (number, {', '.join(_INVOICE_VALUES)})"
    f" SELECT number, {', '.join(f'CAST(:{name} AS {kind})' for name, kind in _INVOICE_VALUES.items())}"
    f" FROM numbered RETURNING {_RETURNED}),"
    " rendering AS (INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args)"
    " SELECT CAST(:render_queue AS text), CAST(:render_task AS text), 0, NULL, CAST(:render_lock AS text) || id::text,"
    " jsonb_build_object('invoice_id', id) FROM issued),"
    " timeline AS (INSERT INTO order_event (order_id, line_id, kind, from_state, to_state, actor_kind, actor_id,"
    " actor_label, note, data, at) SELECT order_id, NULL, CAST(:event_kind AS text), NULL, NULL,"
    " CAST(:event_actor_kind AS text), CAST(:event_actor_id AS text), CAST(:event_actor_label AS text),"
    " 'invoice ' || number || ' issued', jsonb_build_object('invoice', id, CAST(:note_key AS text),"
    " jsonb_build_object('id', CAST(:note_id AS text), 'params', jsonb_build_object('number', number))),"
    " CAST(:event_at AS timestamptz)"
    " FROM issued),"
    " audit AS (INSERT INTO audit_log (actor_kind, actor_id, actor_label, action, entity_type, entity_id, diff, ip,"
    " at) SELECT CAST(:audit_actor_kind AS text), CAST(:audit_actor_id AS bigint), CAST(:audit_actor_label AS text),"
    " CAST(:audit_action AS text), CAST(:audit_entity_type AS text), id::text,"
    " CAST(:audit_diff AS jsonb) || jsonb_build_object('number', number), CAST(:audit_ip AS text),"
    " CAST(:audit_at AS timestamptz) FROM issued)"
)
# The invoice as the ORM loads it, for callers that go on with it.
ISSUE_INVOICE = sa.select(Invoice).from_statement(
    sa.text(f"{_ISSUE_ROWS} SELECT {_RETURNED} FROM issued").columns(*Invoice.__table__.c)
)
# Its id only, for a payment's path, which reads nothing of it: no object built, no JSON columns decoded.
ISSUE_INVOICE_ID = sa.text(f"{_ISSUE_ROWS} SELECT id FROM issued")


def _value(value: Any, kind: str) -> Any:
    if kind == "jsonb":
        return json.dumps(value)
    if kind == "text" and value is not None:
        return str(value)
    return value


def issue_params(
    kind: InvoiceKind, year: int, invoice: dict[str, Any], event: OrderEvent, audit: AuditLog
) -> dict[str, Any]:
    """The statement's parameters: the invoice's values, and the event and audit rows as the helpers made them."""
    series = SERIES[kind]
    return (
        {"series": series, "year": year, "prefix": f"{series}-{year}-"}
        | {name: _value(invoice[name], type_) for name, type_ in _INVOICE_VALUES.items()}
        | {"render_queue": RENDER_QUEUE, "render_task": RENDER_TASK, "render_lock": RENDER_LOCK_PREFIX}
        | {
            "event_kind": str(event.kind),
            "event_actor_kind": str(event.actor_kind),
            "event_actor_id": event.actor_id,
            "event_actor_label": event.actor_label,
            "event_at": event.at,
            "note_key": NOTE_KEY,
            "note_id": ISSUED_NOTE,
        }
        | {
            "audit_actor_kind": str(audit.actor_kind),
            "audit_actor_id": audit.actor_id,
            "audit_actor_label": audit.actor_label,
            "audit_action": audit.action,
            "audit_entity_type": audit.entity_type,
            "audit_diff": json.dumps(audit.diff or {}),
            "audit_ip": audit.ip,
            "audit_at": audit.at,
        }
    )
