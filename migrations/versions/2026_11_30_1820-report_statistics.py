"""Statistics on the Berlin paid day of orders, for the revenue reports.

The reports group paid orders by ``(paid_at AT TIME ZONE 'Europe/Berlin')::date``. Without statistics on that
expression PostgreSQL guesses about one group per row, so it plans a serial aggregate that spills to disk; with
them it knows there are a few hundred days and runs a parallel hash aggregate, about twice as fast on a
million orders (bench/reports.py).

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-30 18:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE STATISTICS orders_paid_day ON ((paid_at AT TIME ZONE 'Europe/Berlin')::date) FROM orders")
    op.execute("ANALYZE orders")


def downgrade() -> None:
    op.execute("DROP STATISTICS orders_paid_day")
