"""One database URL in settings; each driver gets the spelling it needs."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def _base(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"only PostgreSQL is supported, got {parsed.get_backend_name()!r} in {redact(url)}")
    return parsed


def async_url(url: str) -> str:
    """For SQLAlchemy on asyncpg (the app)."""
    return _base(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """For SQLAlchemy on psycopg 3 (Alembic migrations, CLI checks)."""
    return _base(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def conninfo(url: str) -> str:
    """A libpq connection string for psycopg itself (procrastinate)."""
    return _base(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    return _base(url).set(database=database).render_as_string(hide_password=False)


def database_name(url: str) -> str:
    return _base(url).database or "postgres"


def redact(url: str) -> str:
    """The URL as it may appear in logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"
