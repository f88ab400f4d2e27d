"""The catalog's version (bumped by triggers on category, service and company settings) and funnel events.

The storefront caches its rendered catalog pages per process and compares this version (one row, read at most
once a second per process) to know when to render them again. The bump happens inside the editing transaction,
so a page rendered after seeing the new version also sees the committed change.

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-30 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
# Comes after 0011 once the three revisions 0009-0011 (built in parallel) are merged; until then "0008".
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOG_TABLES = ("category", "service", "company_settings")
FUNNEL_KINDS = "'landing_view', 'service_view', 'checkout_started', 'paid'"


def upgrade() -> None:
    op.execute("CREATE SEQUENCE catalog_version_seq")
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalog_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
    )
    op.execute("INSERT INTO catalog_version (id, version) VALUES (1, nextval('catalog_version_seq'))")
    # An upsert: the row may have been emptied (tests truncate every table); the sequence never goes back.
    op.execute(
        """
        CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO catalog_version (id, version) VALUES (1, nextval('catalog_version_seq'))
            ON CONFLICT (id) DO UPDATE SET version = excluded.version;
            RETURN NULL;
        END
        $$
        """
    )
    for table in CATALOG_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_bumps_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()"
        )
    op.create_table(
        "funnel_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("visitor_id", sa.String(length=40), nullable=True),
        sa.Column("service_id", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(f"kind IN ({FUNNEL_KINDS})", name=op.f("ck_funnel_event_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funnel_event")),
    )
    op.create_index("ix_funnel_event_at", "funnel_event", ["at"], unique=False)
    op.create_index(
        "ix_funnel_event_order_id",
        "funnel_event",
        ["order_id"],
        unique=False,
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_funnel_event_order_id", table_name="funnel_event", postgresql_where=sa.text("order_id IS NOT NULL")
    )
    op.drop_index("ix_funnel_event_at", table_name="funnel_event")
    op.drop_table("funnel_event")
    for table in CATALOG_TABLES:
        op.execute(f"DROP TRIGGER {table}_bumps_catalog_version ON {table}")
    op.execute("DROP FUNCTION bump_catalog_version()")
    op.drop_table("catalog_version")
    op.execute("DROP SEQUENCE catalog_version_seq")
