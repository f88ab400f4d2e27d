"""Units of work outside web requests (CLI, worker, seed): one engine, one transaction, committed on success."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.engine import create_engine, session_factory
from app.db.migrations import current_revision, head_revision


@asynccontextmanager
async def engine_for(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url, null_pool=True)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session, session.begin():
        yield session


async def schema_is_current(engine: AsyncEngine) -> tuple[bool, str | None, str | None]:
    async with engine.connect() as connection:
        exists = await connection.scalar(sa.text("SELECT to_regclass('alembic_version') IS NOT NULL"))
        current = await connection.run_sync(current_revision) if exists else None
    head = head_revision()
    return current == head, current, head
