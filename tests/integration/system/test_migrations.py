"""Migrations: from empty to head, back to empty, and the models match what the migrations build."""

from __future__ import annotations

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from app.db import migrations as db_migrations
from app.db.urls import conninfo, sync_url
from app.models import metadata
from migrations.helpers import include_object

NOT_FROM_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"


def objects(url: str) -> dict[str, list[str]]:
    with psycopg.connect(conninfo(url)) as conn:

        def names(query: str) -> list[str]:
            return sorted(row[0] for row in conn.execute(query).fetchall())

        return {
            "tables": names("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"),
            "functions": names(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' AND " + NOT_FROM_EXTENSION.format(oid="p.oid")
            ),
            "types": names(
                "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = 'public' AND (t.typtype = 'e' OR (t.typtype = 'c' AND "
                "(SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')) AND "
                + NOT_FROM_EXTENSION.format(oid="t.oid")
            ),
            "sequences": names("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"),
        }


def test_migrations_upgrade_from_empty_and_downgrade_to_empty(empty_database_url):
    db_migrations.upgrade(empty_database_url)
    built = objects(empty_database_url)
    assert {"orders", "order_line", "order_event", "staff_user", "procrastinate_jobs"} <= set(built["tables"])
    assert "order_number_seq" in built["sequences"]
    assert "procrastinate_defer_jobs_v1" in built["functions"]

    db_migrations.downgrade(empty_database_url, "base")
    assert objects(empty_database_url) == {"tables": ["alembic_version"], "functions": [], "types": [], "sequences": []}

    db_migrations.upgrade(empty_database_url)
    assert objects(empty_database_url) == built


def test_models_and_migrations_describe_the_same_schema(database_url):
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": include_object, "compare_type": True}
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    if not _trigram_available(database_url):  # the embedded server has no contrib modules
        differences = [d for d in differences if not (d[0] == "add_index" and d[1].name.endswith("_trgm"))]
    assert differences == []


def _trigram_available(url: str) -> bool:
    with psycopg.connect(conninfo(url)) as conn:
        return conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").fetchone() is not None
