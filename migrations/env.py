"""Alembic environment: runs on psycopg 3 (sync), against the URL handed over by app.db.migrations."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlalchemy import create_engine, pool

import app.models  # noqa: F401 - registers every table on the metadata
from app.db.base import metadata
from migrations.helpers import include_object

config = context.config


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render our column types as plain SQLAlchemy types, so revisions never import app code."""
    if type_ == "type":
        name = type(obj).__name__
        if name == "DateTimeUTC":
            return "sa.DateTime(timezone=True)"
        if getattr(obj, "_variant_mapping", None) and isinstance(obj, sa.BigInteger):
            return "sa.BigInteger()"
        if name in ("EncryptedString", "EncryptedText", "EncryptedSecret"):
            return "sa.String()"
    return False


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        include_object=include_object,
        compare_type=True,
        render_item=render_item,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
