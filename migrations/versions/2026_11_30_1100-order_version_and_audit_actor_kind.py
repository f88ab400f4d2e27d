"""Orders carry a version every command bumps; audit rows say what kind of actor wrote them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR_KINDS = "'system', 'staff', 'customer', 'provider', 'stripe', 'worker', 'cli'"


def upgrade() -> None:
    op.add_column("orders", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "audit_log", sa.Column("actor_kind", sa.String(length=32), server_default="staff", nullable=False)
    )
    op.create_check_constraint(op.f("ck_audit_log_actor_kind"), "audit_log", f"actor_kind IN ({ACTOR_KINDS})")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_audit_log_actor_kind"), "audit_log", type_="check")
    op.drop_column("audit_log", "actor_kind")
    op.drop_column("orders", "version")
