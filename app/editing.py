"""Creating and editing records through commands: lock, version check, domain rules, apply, audit, flush.

Each domain's commands (``app/catalog/commands.py``, ``app/customers/commands.py``, ...) describe *what* a
record may hold — a ``clean`` function that turns proposed values into normalised ones or raises
``ValidationFailed`` — and hand the rest to ``create_record`` / ``update_record`` here:

- the row is locked (``SELECT … FOR UPDATE``) before it is read for the change;
- the version token the editor saw (``version_token``: the ``version`` column where the model has one, else
  ``updated_at``) must still be the current one, else ``RecordChanged`` names who changed it in between;
- the clean function sees the whole record as it would be (current values overlaid with the new ones), so
  rules across fields (minimum ≤ maximum) hold however few fields a face sends;
- the column types' limits (``app.validation.column_errors``) are checked with the domain rules, so the
  database never has to refuse a value;
- one audit row with the before/after diff is written when something changed, nothing when nothing did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from app.actors import Actor
from app.audit.models import AuditLog
from app.audit.services import snapshot
from app.errors import NotFound, StaleRecord, ValidationFailed
from app.i18n import N_, Message, message
from app.uow import UnitOfWork
from app.validation import column_errors

Model = TypeVar("Model")
# (session, proposed values of the whole record, the record or None when creating) -> normalised values
Clean = Callable[[AsyncSession, dict[str, Any], Any], Awaitable[dict[str, Any]]]

TIMESTAMPS = ("created_at", "updated_at")


class RecordChanged(StaleRecord):
    """Someone saved the record after the editor opened it; nothing was saved."""

    def __init__(self, who: str | Message, current_version: str) -> None:
        super().__init__(
            N_(
                "Not saved: %(who)s changed this record since you opened it. Your input is still in the form: "
                "check their change, then save again to overwrite it, or cancel."
            ),
            who=who,
        )
        self.current_version = current_version


def version_token(obj: Any) -> str:
    """What an edit form carries to detect a lost update: the ``version`` column, else ``updated_at``."""
    version = getattr(obj, "version", None)
    if isinstance(version, int) and not isinstance(version, bool):
        return str(version)
    updated = getattr(obj, "updated_at", None)
    return updated.astimezone(UTC).isoformat() if isinstance(updated, datetime) else ""


def editable_values(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


async def lock_record(session: AsyncSession, model: type[Model], record_id: int) -> Model:
    """The row, locked for this transaction and freshly read, deferred columns included; NotFound when missing."""
    stmt = (
        sa.select(model)
        .where(model.id == record_id)  # type: ignore[attr-defined]
        .options(undefer("*"))
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )
    obj = (await session.scalars(stmt)).unique().one_or_none()
    if obj is None:
        raise NotFound(N_("This record no longer exists."))
    return obj


async def last_editor(session: AsyncSession, entity_type: str, entity_id: int) -> str | None:
    stmt = (
        sa.select(AuditLog.actor_label)
        .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    label: str | None = await session.scalar(stmt)
    return label


async def check_version(session: AsyncSession, obj: Any, expected: str | None, entity_type: str) -> None:
    """Refuse the change when the record moved on since ``expected`` was read (None: the face has no token)."""
    if expected is None:
        return
    current = version_token(obj)
    if expected != current:
        who = await last_editor(session, entity_type, obj.id)
        raise RecordChanged(who or message(N_("someone else")), current)


def _refuse_unknown(values: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValidationFailed({name: N_("cannot be changed here") for name in unknown})


async def _cleaned(
    session: AsyncSession, model: type[Any], proposed: dict[str, Any], current: Any, clean: Clean
) -> dict[str, Any]:
    errors: dict[str, str | Message] = dict(column_errors(model, proposed))
    try:
        values = await clean(session, {k: v for k, v in proposed.items() if k not in errors}, current)
    except ValidationFailed as exc:
        errors = {**exc.errors, **errors}
        values = {}
    if errors:
        raise ValidationFailed(errors)
    late = column_errors(model, values)  # what normalising produced must fit the columns too
    if late:
        raise ValidationFailed(late)
    return values


async def create_record(
    uow: UnitOfWork,
    model: type[Model],
    *,
    entity_type: str,
    fields: tuple[str, ...],
    values: Mapping[str, Any],
    clean: Clean,
    actor: Actor,
    details: Mapping[str, Any] | None = None,
) -> Model:
    _refuse_unknown(values, fields)
    cleaned = await _cleaned(uow.session, model, dict(values), None, clean)
    obj = model(**cleaned)
    uow.session.add(obj)
    await uow.flush()
    uow.audit(actor, "create", entity_type, obj.id, after=snapshot(obj), details=details)  # type: ignore[attr-defined]
    return obj


async def update_record(
    uow: UnitOfWork,
    model: type[Model],
    record_id: int,
    *,
    entity_type: str,
    fields: tuple[str, ...],
    values: Mapping[str, Any],
    clean: Clean,
    actor: Actor,
    version: str | None = None,
    action: str = "update",
) -> Model:
    """Apply ``values`` (any subset of ``fields``) to the locked record, if it is still the version the editor saw."""
    _refuse_unknown(values, fields)
    obj = await lock_record(uow.session, model, record_id)
    await check_version(uow.session, obj, version, entity_type)
    proposed = {**editable_values(obj, fields), **values}
    cleaned = await _cleaned(uow.session, model, proposed, obj, clean)
    before = snapshot(obj)
    for name, value in cleaned.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
    await uow.flush()
    after = snapshot(obj)
    if after != before:
        uow.audit(actor, action, entity_type, record_id, before=before, after=after)
    return obj
