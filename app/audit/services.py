"""The audit trail of staff writes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditLog

REDACTED = "***"
SECRET_FIELDS = frozenset({"password", "password_hash", "api_key"})
# A row's own bookkeeping: it would only add noise to every diff.
BOOKKEEPING_FIELDS = frozenset({"created_at", "updated_at", "version"})


def snapshot(record: Any) -> dict[str, Any]:
    """The record's business fields as loaded now (column attributes, without bookkeeping).

    A deferred column nobody loaded (a provider's API key on a list) is left out rather than fetched.
    """
    values = sa.inspect(record).dict  # read as stored: through the attributes, every field cost a descriptor call
    return {key: values[key] for key in _business_fields(type(record)) if key in values}


_FIELDS_OF: dict[type, tuple[str, ...]] = {}


def _business_fields(model: Any) -> tuple[str, ...]:
    if model not in _FIELDS_OF:
        columns = sa.inspect(model).column_attrs
        _FIELDS_OF[model] = tuple(attr.key for attr in columns if attr.key not in BOOKKEEPING_FIELDS)
    return _FIELDS_OF[model]


def entity_name(record_or_model: Any) -> str:
    """The audit trail's name for a kind of record: its model class in snake case (``OrderLine`` -> ``order_line``)."""
    model = record_or_model if isinstance(record_or_model, type) else type(record_or_model)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Field -> {"before", "after"} for every field whose value changed; secrets are masked."""
    changes: dict[str, dict[str, Any]] = {}
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) is after.get(key):  # the same object (a field nobody set): unchanged, cheaply
            continue
        old, new = jsonable(before.get(key)), jsonable(after.get(key))
        if old != new:
            if key in SECRET_FIELDS:
                old, new = (REDACTED if old else None), (REDACTED if new else None)
            changes[key] = {"before": old, "after": new}
    return changes


def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    actor_label: str,
    action: str,
    entity_type: str,
    entity_id: str | int | None,
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        diff=changes,
        ip=ip,
        at=datetime.now(UTC),
    )
    session.add(entry)
    return entry
