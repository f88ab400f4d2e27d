"""Read-only sessions for pages that only show data (the storefront, the tracking page, the reports).

PostgreSQL itself refuses every write in these transactions (``BEGIN READ ONLY``), so a page that mutates
ORM state by accident fails loudly (a 500 in tests, an error in the log) instead of flushing the change, and
the transaction is never committed: closing the session rolls it back.

Work that reads several large results at once (the success metrics read five reports) runs them side by side on
sessions of their own that see exactly what the first session sees: :func:`exported_snapshot` names the first
transaction's snapshot, and each :func:`read_only_session` given it imports it (``SET TRANSACTION SNAPSHOT``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

READ_ONLY = {"postgresql_readonly": True}
# Importing a snapshot needs a transaction that keeps one snapshot throughout.
SNAPSHOT_READER = {**READ_ONLY, "isolation_level": "REPEATABLE READ"}


@asynccontextmanager
async def read_only_session(engine: AsyncEngine, *, snapshot: str | None = None) -> AsyncIterator[AsyncSession]:
    """A session in a read-only transaction, rolled back when the block ends; with ``snapshot`` (from
    :func:`exported_snapshot`, whose transaction must still be open) it sees the data that transaction sees.

    Objects loaded here stay readable after the block (closing does not expire them), but they are detached.
    """
    async with AsyncSession(engine, expire_on_commit=False) as session:
        if snapshot is None:
            await session.connection(execution_options=READ_ONLY)
        else:
            connection = await session.connection(execution_options=SNAPSHOT_READER)
            await connection.execute(sa.text(f"SET TRANSACTION SNAPSHOT '{_snapshot_id(snapshot)}'"))
        yield session


async def exported_snapshot(session: AsyncSession) -> str:
    """The id of the snapshot of ``session``'s transaction, for other sessions to import while it stays open."""
    return _snapshot_id(str(await session.scalar(sa.text("SELECT pg_export_snapshot()"))))


def _snapshot_id(snapshot: str) -> str:
    """A snapshot id as PostgreSQL writes them (``0000000A-0000001B-1``); ``SET TRANSACTION SNAPSHOT`` takes no
    parameters, so anything else is refused before it reaches the statement."""
    if not snapshot or any(char not in "0123456789ABCDEF-" for char in snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    return snapshot
