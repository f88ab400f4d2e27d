"""Renewal notices a customer may turn off: the one-click unsubscribe link of the subscription renewal mail.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customer", sa.Column("renewal_notices", sa.Boolean(), nullable=False, server_default=sa.text("true"))
    )


def downgrade() -> None:
    op.drop_column("customer", "renewal_notices")
