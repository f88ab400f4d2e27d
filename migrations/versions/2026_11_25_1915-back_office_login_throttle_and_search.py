"""Back office: login throttle table; trigram and lookup indexes for staff search (pg_trgm).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:15:44.223910
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.helpers import trigram_available

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = (
    ("ix_customer_email_trgm", "customer", "email"),
    ("ix_customer_name_trgm", "customer", "name"),
    ("ix_customer_company_trgm", "customer", "company"),
    ("ix_order_line_link_trgm", "order_line", "link"),
    ("ix_orders_number_trgm", "orders", "number"),
)


def upgrade() -> None:
    op.create_table(
        "staff_login_failure",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failure")),
    )
    op.create_index("ix_staff_login_failure_ip_email_at", "staff_login_failure", ["ip", "email", "at"])
    # The embedded PostgreSQL of the demo ships without contrib modules: search works there, unindexed.
    if trigram_available():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM_INDEXES:
            op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
    op.create_index("ix_order_line_provider_order_id", "order_line", ["provider_order_id"])


def downgrade() -> None:
    op.drop_index("ix_order_line_provider_order_id", table_name="order_line")
    for name, _table, _column in reversed(TRIGRAM_INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_staff_login_failure_ip_email_at", table_name="staff_login_failure")
    op.drop_table("staff_login_failure")
    # pg_trgm stays installed: other objects in the database may use it.
