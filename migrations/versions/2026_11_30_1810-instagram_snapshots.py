"""Instagram snapshots: a profile's follower, following and media counts over time, for the tracking page's chart.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
# Comes after 0013 once the revisions built in parallel are merged; until then "0012".
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instagram_snapshot",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=False),
        sa.Column("following", sa.BigInteger(), nullable=False),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "followers >= 0 AND following >= 0 AND media_count >= 0",
            name=op.f("ck_instagram_snapshot_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["order_line.id"], name=op.f("fk_instagram_snapshot_line_id_order_line"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instagram_snapshot")),
        sa.UniqueConstraint("handle", "taken_at", name="uq_instagram_snapshot_handle_taken_at"),
    )
    op.create_index("ix_instagram_snapshot_line_id", "instagram_snapshot", ["line_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_instagram_snapshot_line_id", table_name="instagram_snapshot")
    op.drop_table("instagram_snapshot")
