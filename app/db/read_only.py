"""Read-only sessions for pages that only show data (the storefront, later the tracking page).

PostgreSQL itself refuses every write in these transactions (``BEGIN READ ONLY``), so a page that mutates
ORM state by accident fails loudly (a 500 in tests, an error in the log) instead of flushing the change, and
the transaction is never committed: closing the session rolls it back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

READ_ONLY = {"postgresql_readonly": True}


@asynccontextmanager
async def read_only_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session in a read-only transaction, rolled back when the block ends.

    Objects loaded here stay readable after the block (closing does not expire them), but they are detached.
    """
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await session.connection(execution_options=READ_ONLY)
        yield session
