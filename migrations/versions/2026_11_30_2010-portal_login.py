"""Client portal login: emailed single-use links (only their SHA-256 stored), the throttle on asking for them, and
the customer's portal session version that logout and erasure raise to end every portal session.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
# Comes after the revisions built in parallel once they are merged; until then "0018".
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer", sa.Column("portal_session_version", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "portal_login_token",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_portal_login_token_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_login_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_login_token_token_hash")),
    )
    op.create_index(op.f("ix_portal_login_token_customer_id"), "portal_login_token", ["customer_id"], unique=False)
    op.create_table(
        "portal_link_requests",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_portal_link_requests")),
    )
    op.create_index(
        op.f("ix_portal_link_requests_window_started_at"), "portal_link_requests", ["window_started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_link_requests_window_started_at"), table_name="portal_link_requests")
    op.drop_table("portal_link_requests")
    op.drop_index(op.f("ix_portal_login_token_customer_id"), table_name="portal_login_token")
    op.drop_table("portal_login_token")
    op.drop_column("customer", "portal_session_version")
