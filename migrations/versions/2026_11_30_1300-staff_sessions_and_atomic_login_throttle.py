"""Server-side staff sessions, forced password change, and an atomic login throttle.

``staff_session`` holds one row per back-office login (only a hash of the browser's token), so a logout, a
password reset, a deactivation or a role change can end sessions. ``staff_user.must_change_password`` makes the
next login choose a new password. ``staff_login_attempts`` (one counter per client IP and login, raised by an
upsert before the password is checked) replaces ``staff_login_failure``, whose check-then-insert could be raced.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SESSION_ENDS = "'logout', 'password_reset', 'password_changed', 'deactivated', 'role_changed', 'ended_by_admin'"


def upgrade() -> None:
    op.add_column(
        "staff_user", sa.Column("must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.create_table(
        "staff_session",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint(f"revoked_reason IN ({SESSION_ENDS})", name=op.f("ck_staff_session_session_end")),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_session_staff_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_session_token_hash")),
    )
    op.create_index(op.f("ix_staff_session_staff_user_id"), "staff_session", ["staff_user_id"], unique=False)
    op.create_table(
        "staff_login_attempts",
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ip", "login", name=op.f("pk_staff_login_attempts")),
    )
    op.create_index(
        op.f("ix_staff_login_attempts_window_started_at"), "staff_login_attempts", ["window_started_at"], unique=False
    )
    op.drop_index("ix_staff_login_failure_ip_email_at", table_name="staff_login_failure")
    op.drop_table("staff_login_failure")


def downgrade() -> None:
    op.create_table(
        "staff_login_failure",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failure")),
    )
    op.create_index("ix_staff_login_failure_ip_email_at", "staff_login_failure", ["ip", "email", "at"])
    op.drop_index(op.f("ix_staff_login_attempts_window_started_at"), table_name="staff_login_attempts")
    op.drop_table("staff_login_attempts")
    op.drop_index(op.f("ix_staff_session_staff_user_id"), table_name="staff_session")
    op.drop_table("staff_session")
    op.drop_column("staff_user", "must_change_password")
