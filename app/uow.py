"""The unit of work: one transaction that a command (or a batch of them) runs in, with who acts and from where.

Rule of the house (docs/design-notes.md): the face that receives a request, a job or a CLI call opens the unit
of work and commits it once; commands only flush. Inside, a command locks what it changes in ascending id
order, checks the transition maps, applies the change and writes its event, audit, job (and later outbox)
rows through this object, so all of them commit or none does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from app.actors import Actor, ActorKind
from app.audit.models import AuditLog
from app.audit.services import diff, entity_name, jsonable, snapshot
from app.audit.trail import write_trail
from app.db.row_writes import Companion, write_rows
from app.jobs import defer_in_transaction, defer_unless_waiting

# Every session (commands', jobs', tests') writes its new audit and order-event rows in one statement per flush.
event.listen(Session, "before_flush", write_trail)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class UnitOfWork:
    session: AsyncSession
    ip: str | None = None  # where the request came from (web faces), for the audit trail
    # Where "now" comes from: demo data replays a past timeline through the same commands.
    clock: Callable[[], datetime] = utc_now
    _tracked: dict[tuple[str, Any], tuple[Any, dict[str, Any]]] = field(default_factory=dict, repr=False)
    _bumped: set[tuple[str, Any]] = field(default_factory=set, repr=False)

    def now(self) -> datetime:
        return self.clock()

    def track(self, *records: Any) -> None:
        """Remember how locked records look before a command changes them (see ``audit_changes``)."""
        for record in records:
            key = (entity_name(record), record.id)
            if key not in self._tracked:
                self._tracked[key] = (record, snapshot(record))

    def bump_version(self, record: Any) -> None:
        """Raise a versioned record's ``version`` once per unit of work (optimistic checks and ETags read it)."""
        key = (entity_name(record), record.id)
        if key not in self._bumped:
            self._bumped.add(key)
            record.version += 1

    def audit_changes(self, actor: Actor, action: str, *, details: Mapping[str, Any] | None = None) -> list[AuditLog]:
        """One audit row per tracked record that changed, with its diff; then forget them."""
        rows = []
        for (name, pk), (record, before) in self._tracked.items():
            changes = diff(before, snapshot(record))
            if changes:
                rows.append(self._audit_row(actor, action, name, pk, changes, details))
        self._tracked.clear()
        return rows

    def audit(
        self,
        actor: Actor,
        action: str,
        entity_type: str,
        entity_id: int | str | None,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditLog:
        """One audit row for one record: the fields that changed (secrets masked) plus any details."""
        return self._audit_row(actor, action, entity_type, entity_id, diff(before or {}, after or {}), details)

    def _audit_row(
        self,
        actor: Actor,
        action: str,
        entity_type: str,
        entity_id: int | str | None,
        changes: dict[str, Any],
        details: Mapping[str, Any] | None,
    ) -> AuditLog:
        if details:
            changes.update({key: jsonable(value) for key, value in details.items() if value not in (None, "", [], {})})
        entry = AuditLog(
            actor_kind=actor.kind,
            actor_id=int(actor.id) if actor.kind == ActorKind.STAFF and actor.id and actor.id.isdigit() else None,
            actor_label=actor.describe()[:254],
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            diff=changes or None,
            ip=self.ip,
            at=self.now(),
        )
        self.session.add(entry)
        return entry

    async def defer(self, task_name: str, args: dict[str, Any] | None = None, **options: Any) -> int:
        """A job that exists exactly when this unit of work commits."""
        return await defer_in_transaction(self.session, task_name, args, **options)

    async def defer_unless_waiting(
        self, task_name: str, jobs: Sequence[tuple[dict[str, Any], str]], **options: Any
    ) -> list[int]:
        """Jobs (args, queueing lock) that exist exactly when this unit of work commits; one whose lock is held
        by a job still waiting is skipped (see ``app.jobs.defer_unless_waiting``)."""
        return await defer_unless_waiting(self.session, task_name, jobs, **options)

    async def flush(self) -> None:
        await self.session.flush()

    async def write(self, *records: Any, companions: Sequence[Companion] = ()) -> None:
        """Flush a hot command's changes in one statement: the records' changed columns, the new trail rows and
        the companions (``app.db.row_writes``); anything else pending waits for the next flush."""
        await write_rows(self.session, records, companions)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], *, ip: str | None = None
) -> AsyncIterator[UnitOfWork]:
    """Open a transaction; commit when the block ends normally, roll everything back when it raises."""
    async with sessions() as session, session.begin():
        yield UnitOfWork(session, ip=ip)
