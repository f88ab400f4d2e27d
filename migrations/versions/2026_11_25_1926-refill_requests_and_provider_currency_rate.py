"""Refill requests (one open per line); provider currency rate for margins.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:26:38.259869
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refill_request",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False, start=1, increment=1),
            nullable=False,
        ),
        sa.Column("order_line_id", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("provider_refill_id", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "sent",
                "in_progress",
                "completed",
                "rejected",
                "failed",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=254), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_refill_request_order_line_id_order_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_refill_request_provider_id_provider"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refill_request")),
    )
    op.create_index("ix_refill_request_order_line_id", "refill_request", ["order_line_id"], unique=False)
    op.create_index(
        "uq_refill_request_open_per_line",
        "refill_request",
        ["order_line_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('requested', 'sent', 'in_progress')"),
    )
    op.add_column(
        "provider", sa.Column("eur_per_unit", sa.Numeric(precision=12, scale=6), server_default="1", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("provider", "eur_per_unit")
    op.drop_index(
        "uq_refill_request_open_per_line",
        table_name="refill_request",
        postgresql_where=sa.text("status IN ('requested', 'sent', 'in_progress')"),
    )
    op.drop_index("ix_refill_request_order_line_id", table_name="refill_request")
    op.drop_table("refill_request")
