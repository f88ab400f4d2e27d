"""SQLAlchemy engines and sessions (asyncpg), configured once from the database URL."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.db.urls import async_url

# Prepared statements are reused by the asyncpg dialect; generic plans for ILIKE/range filters can be far
# worse than custom ones on large tables, and JIT only adds latency to our short OLTP queries.
SERVER_SETTINGS = {"application_name": "smplat", "plan_cache_mode": "force_custom_plan", "jit": "off"}


def discard_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection the server has closed (restart, failover, idle timeout) is replaced.

    asyncpg notices the server closing the socket while the connection idles in the pool, so this costs no
    round trip; ``pool_pre_ping`` would spend three on every checkout (SQLAlchemy wraps its ping in
    BEGIN/ROLLBACK). A connection lost mid-query still fails that query, and SQLAlchemy then renews the pool.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database server closed this connection")


def watch_connections(engine: AsyncEngine) -> AsyncEngine:
    if not isinstance(engine.sync_engine.pool, NullPool):
        event.listen(engine.sync_engine, "checkout", discard_closed_connection)
    return engine


def engine_options(*, null_pool: bool = False) -> dict[str, Any]:
    options: dict[str, Any] = {"connect_args": {"server_settings": SERVER_SETTINGS}}
    if null_pool:
        options["poolclass"] = NullPool
    else:
        options.update(pool_size=10, max_overflow=10, pool_recycle=1800)
    return options


def create_engine(url: str, *, null_pool: bool = False) -> AsyncEngine:
    return watch_connections(create_async_engine(async_url(url), **engine_options(null_pool=null_pool)))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alchemy_config(url: str) -> SQLAlchemyAsyncConfig:
    """The Advanced Alchemy config the Litestar plugin uses (one session per request, committed on 2xx/3xx)."""
    return SQLAlchemyAsyncConfig(
        engine_instance=create_engine(url),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit_include_redirects",
        create_all=False,
        # Errors are mapped once, in app/web/errors.py: the plugin's default would answer a failed query with
        # a 409 JSON body (to browsers too) and log it only in the access line.
        set_default_exception_handler=False,
    )
