"""Finding, creating and checking the database a command runs against."""

from __future__ import annotations

import os

import psycopg
from psycopg import sql

from app.config import ConfigError, Settings, get_settings, reload_settings
from app.db.embedded import EmbeddedPostgres, start_embedded
from app.db.urls import conninfo, database_name, redact, with_database

EMBEDDED_DATABASE = "smplat"


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached; the message names the URL and the reason."""


def check_connection(url: str, timeout: float = 5.0) -> None:
    try:
        with psycopg.connect(conninfo(url), connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot reach the database at {redact(url)}: {reason}") from exc


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist yet (connects to ``postgres``)."""
    name = database_name(url)
    admin_url = with_database(url, "postgres")
    try:
        with psycopg.connect(conninfo(admin_url), autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.errors.DuplicateDatabase:
        pass  # created concurrently by another process
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"cannot create database {name!r} at {redact(admin_url)}: {exc}") from exc


def drop_database(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(conninfo(with_database(url, "postgres")), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def resolve_database(settings: Settings | None = None) -> tuple[str, EmbeddedPostgres | None]:
    """The URL to use: ``SMPLAT_DATABASE_URL`` if set, else the embedded server (started if needed).

    The resolved URL is exported to the environment so that child processes (web workers) use it too.
    """
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url, None
    if settings.is_prod:
        raise ConfigError("SMPLAT_DATABASE_URL must be set in production (no embedded database)")
    embedded = start_embedded(settings.data_dir / "pg")
    url = embedded.url(EMBEDDED_DATABASE)
    ensure_database(url)
    os.environ["SMPLAT_DATABASE_URL"] = url
    reload_settings()
    return url, embedded
