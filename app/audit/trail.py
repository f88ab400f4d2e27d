"""The trail a flush writes: the new audit and order-event rows of both tables in one statement.

Both tables are append-only, and nothing reads a row back by its id or through the session that wrote it. The
ORM would insert each table on its own (``INSERT … RETURNING id``: a round trip per table, plus identity
bookkeeping); instead, at every flush, :func:`write_trail` takes them out of the session and sends them together,
before the flush's own statements. They may go first: they refer only to rows already in the database (a
command copies the order's and the line's ids into the event when it records it). As with the ORM, a row added
and given up before a flush (a savepoint rolled back) is never sent, and one sent inside a savepoint goes with
it; the objects stay transient, without ids. Rows keep the order they were added in (ids ascending).
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, UOWTransaction

from app.audit.models import AuditLog
from app.orders.models import OrderEvent

# Column -> PostgreSQL element type of the array it is sent in.
AUDIT_COLUMNS = {
    "actor_kind": "text",
    "actor_id": "bigint",
    "actor_label": "text",
    "action": "text",
    "entity_type": "text",
    "entity_id": "text",
    "diff": "jsonb",
    "ip": "text",
    "at": "timestamptz",
}
EVENT_COLUMNS = {
    "order_id": "bigint",
    "line_id": "bigint",
    "kind": "text",
    "from_state": "text",
    "to_state": "text",
    "actor_kind": "text",
    "actor_id": "text",
    "actor_label": "text",
    "note": "text",
    "data": "jsonb",
    "at": "timestamptz",
}
# The columns' defaults, for rows made without them (as the ORM would fill them in).
AUDIT_DEFAULTS = {"actor_kind": "'staff'", "at": "now()"}
EVENT_DEFAULTS = {"at": "now()"}


def _insert(table: str, columns: dict[str, str], defaults: dict[str, str], prefix: str) -> str:
    names = ", ".join(columns)
    values = ", ".join(f"coalesce(row.{name}, {defaults[name]})" if name in defaults else name for name in columns)
    arrays = ", ".join(f"CAST(:{prefix}_{name} AS {kind}[])" for name, kind in columns.items())
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM unnest({arrays}) AS row({names})"


# The trail's two inserts as common table expressions, for statements that write it along with other rows
# (``app.db.row_writes``). Of one shape whatever the number of rows (empty arrays insert none).
TRAIL_CTES = (
    f"audit AS ({_insert('audit_log', AUDIT_COLUMNS, AUDIT_DEFAULTS, 'audit')}),"
    f" events AS ({_insert('order_event', EVENT_COLUMNS, EVENT_DEFAULTS, 'event')})"
)
# Textual: prepared once per connection.
_WRITE_TRAIL = sa.text(f"WITH {TRAIL_CTES} SELECT")


def _arrays(rows: list[Any], columns: dict[str, str], prefix: str) -> dict[str, list[Any]]:
    """One parameter per column: that column's values over the rows (JSON serialised as the ORM would)."""
    arrays: dict[str, list[Any]] = {}
    for name, kind in columns.items():
        values = [getattr(row, name) for row in rows]
        if kind == "jsonb":
            values = [json.dumps(value) for value in values]
        elif kind == "text":
            values = [None if value is None else str(value) for value in values]
        arrays[f"{prefix}_{name}"] = values
    return arrays


def _in_order_added(rows: Iterable[Any]) -> list[Any]:
    return sorted(rows, key=lambda row: sa.inspect(row).insert_order)


def empty_trail() -> dict[str, list[Any]]:
    """The parameters of ``TRAIL_CTES`` that insert no rows."""
    return _arrays([], AUDIT_COLUMNS, "audit") | _arrays([], EVENT_COLUMNS, "event")


def take_trail(session: Session) -> dict[str, list[Any]] | None:
    """The session's new audit and order-event rows as the parameters of ``TRAIL_CTES``, taken out of the session;
    None when there are none."""
    audit = _in_order_added(row for row in session.new if type(row) is AuditLog)
    events = _in_order_added(row for row in session.new if type(row) is OrderEvent and row.order_id is not None)
    if not audit and not events:
        return None
    for row in (*audit, *events):
        session.expunge(row)
    return _arrays(audit, AUDIT_COLUMNS, "audit") | _arrays(events, EVENT_COLUMNS, "event")


def write_trail(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """``before_flush``: send the session's new audit and order-event rows in one statement, then forget them."""
    params = take_trail(session)
    if params is not None:
        session.connection().execute(_WRITE_TRAIL, params)
