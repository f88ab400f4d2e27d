"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.migrations import current_revision, head_revision


@lru_cache(maxsize=1)
def _head() -> str | None:
    return head_revision()


@get("/health", include_in_schema=True, tags=["system"], cache=False)
async def health() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@get("/ready", include_in_schema=True, tags=["system"], cache=False)
async def ready(db_session: NamedDependency[AsyncSession]) -> Response[dict[str, Any]]:
    """The database answers and its schema is at the newest migration."""
    try:
        connection = await db_session.connection()
        await connection.execute(sa.text("SELECT 1"))
        current = await connection.run_sync(current_revision)
    except Exception as exc:
        return Response(
            {"status": "unavailable", "database": f"error: {type(exc).__name__}"},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    head = _head()
    is_ready = current == head
    return Response(
        {
            "status": "ready" if is_ready else "migrations pending",
            "database": "ok",
            "migrations": {"current": current, "head": head},
        },
        status_code=HTTP_200_OK if is_ready else HTTP_503_SERVICE_UNAVAILABLE,
    )
