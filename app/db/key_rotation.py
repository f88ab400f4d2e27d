"""Key rotation for encrypted columns: which key each stored value is under, and re-encryption with the first.

The procedure (docs/operations.md): put the new key in front of the ring, deploy, run ``smplat keys rotate``,
check with ``smplat keys status`` that nothing is left under an older key, then drop the old key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.db.crypto import EncryptedSecret, encrypted_columns
from app.models import metadata
from app.uow import UnitOfWork


@dataclass
class ColumnReport:
    """One encrypted column: how many values each key of the ring reads, and which rows none reads."""

    column: str  # table.column
    ring_size: int
    by_key: list[int] = field(default_factory=list)  # count per key of the ring, first key first
    unreadable_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_key = self.by_key or [0] * self.ring_size

    @property
    def under_older_keys(self) -> int:
        return sum(self.by_key[1:])

    @property
    def readable(self) -> int:
        return sum(self.by_key)


@dataclass
class KeyReport:
    columns: list[ColumnReport]
    reencrypted: int = 0

    @property
    def unreadable(self) -> int:
        return sum(len(c.unreadable_ids) for c in self.columns)

    @property
    def under_older_keys(self) -> int:
        return sum(c.under_older_keys for c in self.columns)

    def unreadable_records(self) -> list[str]:
        return [f"{c.column} of id {pk}" for c in self.columns for pk in c.unreadable_ids]


def _columns() -> Iterator[tuple[sa.Column[Any], sa.Column[Any], EncryptedSecret]]:
    for column in encrypted_columns(metadata):
        (pk,) = column.table.primary_key.columns
        assert isinstance(column.type, EncryptedSecret)
        yield column, pk, column.type


async def _stored(session: AsyncSession, column: sa.Column[Any], pk: sa.Column[Any], *, lock: bool) -> list[Any]:
    """(id, token) of every stored value, as stored (no decryption), in ascending id order."""
    raw = sa.type_coerce(column, sa.String())
    stmt = sa.select(pk, raw).where(column.is_not(None)).order_by(pk)
    if lock:
        stmt = stmt.with_for_update()
    return list((await session.execute(stmt)).all())


async def key_status(session: AsyncSession) -> KeyReport:
    """Which key of the ring reads each stored value (read only)."""
    reports = []
    for column, pk, kind in _columns():
        ring = kind.ring()
        report = ColumnReport(f"{column.table.name}.{column.name}", len(ring.fernets))
        for row_id, token in await _stored(session, column, pk, lock=False):
            index = ring.key_index(token)
            if index is None:
                report.unreadable_ids.append(str(row_id))
            else:
                report.by_key[index] += 1
        reports.append(report)
    return KeyReport(reports)


async def rotate_keys(uow: UnitOfWork, *, actor: Actor) -> KeyReport:
    """Re-encrypt every readable value with the first key of the ring; unreadable values stay as they are.

    Locks the rows it reads (ascending id, table by table) so that no write slips between reading and
    re-encrypting; writes one audit row with the counts (never a key or a value).
    """
    reports = []
    reencrypted = 0
    for column, pk, kind in _columns():
        ring = kind.ring()
        report = ColumnReport(f"{column.table.name}.{column.name}", len(ring.fernets))
        updates = []
        for row_id, token in await _stored(uow.session, column, pk, lock=True):
            index = ring.key_index(token)
            if index is None:
                report.unreadable_ids.append(str(row_id))
                continue
            report.by_key[index] += 1
            try:
                updates.append({"row_id": row_id, "token": ring.rotate(token)})
            except InvalidToken:  # pragma: no cover - key_index just read it
                report.unreadable_ids.append(str(row_id))
        if updates:
            await uow.session.execute(
                sa.update(column.table)
                .where(pk == sa.bindparam("row_id"))
                .values({column.name: sa.bindparam("token", type_=sa.String())}),
                updates,
            )
        reencrypted += len(updates)
        reports.append(report)
    result = KeyReport(reports, reencrypted=reencrypted)
    uow.audit(
        actor,
        "rotate_encryption_keys",
        "encryption_key_ring",
        None,
        details={
            "reencrypted": result.reencrypted,
            "unreadable": result.unreadable,
            "ring_size": max((c.ring_size for c in reports), default=0),
            "columns": {c.column: {"reencrypted": c.readable, "unreadable": c.unreadable_ids} for c in reports},
        },
    )
    await uow.flush()
    return result
