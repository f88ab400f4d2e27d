"""Time in state for order lines (fulfillment board); paid orders indexed by payment time (revenue).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "order_line",
        sa.Column("status_changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.execute("UPDATE order_line SET status_changed_at = updated_at")
    op.drop_index("ix_order_line_fulfillment_status", table_name="order_line")
    op.create_index("ix_order_line_fulfillment_status", "order_line", ["fulfillment_status", "status_changed_at"])
    op.create_index("ix_orders_paid_at", "orders", ["paid_at"], postgresql_where=sa.text("paid_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_orders_paid_at", table_name="orders")
    op.drop_index("ix_order_line_fulfillment_status", table_name="order_line")
    op.create_index("ix_order_line_fulfillment_status", "order_line", ["fulfillment_status", "updated_at"])
    op.drop_column("order_line", "status_changed_at")
