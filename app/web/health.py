"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
import structlog
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.migrations import current_revision, head_revision

log = structlog.get_logger(__name__)

READY = {"status": "ready"}
NOT_READY = {"status": "not ready"}


@lru_cache(maxsize=1)
def _head() -> str | None:
    return head_revision()


@get("/health", include_in_schema=True, tags=["system"], cache=False)
async def health() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@get("/ready", include_in_schema=True, tags=["system"], cache=False)
async def ready(db_session: NamedDependency[AsyncSession]) -> Response[dict[str, str]]:
    """The database answers and its schema is at the newest migration.

    The body says only ready / not ready; why not (database error, migration revisions) goes to the log.
    """
    try:
        connection = await db_session.connection()
        await connection.execute(sa.text("SELECT 1"))
        current = await connection.run_sync(current_revision)
    except Exception as exc:
        log.warning("not ready: the database does not answer", error=type(exc).__name__, detail=str(exc)[:500])
        return Response(NOT_READY, status_code=HTTP_503_SERVICE_UNAVAILABLE)
    head = _head()
    if current != head:
        log.warning("not ready: migrations pending", current=current, head=head)
        return Response(NOT_READY, status_code=HTTP_503_SERVICE_UNAVAILABLE)
    return Response(READY, status_code=HTTP_200_OK)
