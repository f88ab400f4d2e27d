"""Instagram lookups: each Business Discovery call and its answer, for the snapshot job's budget, cache and back-off.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("counted", "not_visible", "rate_limited", "token_refused", "unavailable")


def upgrade() -> None:
    op.create_table(
        "instagram_lookup",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(*OUTCOMES, name="outcome", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("resume_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instagram_lookup")),
    )
    op.create_index("ix_instagram_lookup_asked_at", "instagram_lookup", ["asked_at"], unique=False)
    op.create_index("ix_instagram_lookup_handle_asked_at", "instagram_lookup", ["handle", "asked_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_instagram_lookup_handle_asked_at", table_name="instagram_lookup")
    op.drop_index("ix_instagram_lookup_asked_at", table_name="instagram_lookup")
    op.drop_table("instagram_lookup")
