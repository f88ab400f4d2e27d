"""Helpers shared by revisions. Revisions must not import app code: these only touch the database."""

from __future__ import annotations

from pathlib import Path

from alembic import op

SQL_DIR = Path(__file__).resolve().parent / "sql"
PROCRASTINATE_PREFIX = "procrastinate_"


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:  # noqa: ARG001
    """Autogenerate ignores procrastinate's tables: they come from its own schema file (first revision)."""
    return not (type_ == "table" and name is not None and name.startswith(PROCRASTINATE_PREFIX))


def apply_sql_file(name: str) -> None:
    """Execute a vendored SQL file as is: driver-level, so ':' is not a bind parameter; '%' is escaped for psycopg."""
    op.get_bind().exec_driver_sql((SQL_DIR / name).read_text(encoding="utf-8").replace("%", "%%"))


def drop_procrastinate_schema() -> None:
    """Drop every object procrastinate's schema file created (tables, functions, types)."""
    op.execute(
        """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT tablename FROM pg_tables
                        WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP TABLE %I CASCADE', item.tablename);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP FUNCTION %s CASCADE', item.signature);
            END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t
                        JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%' AND t.typtype IN ('e', 'c')
                        LOOP
                EXECUTE format('DROP TYPE %I CASCADE', item.typname);
            END LOOP;
        END $$
        """
    )


def trigram_available() -> bool:
    """Whether this server can load pg_trgm (contrib); the embedded demo server cannot."""
    return bool(op.get_bind().exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").scalar())
