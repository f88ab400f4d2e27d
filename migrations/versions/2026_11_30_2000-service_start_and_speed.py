"""Services say when delivery starts and how fast it runs, for the tracking page's estimates.

Existing services get "within 24 hours" and 1,000 units a day until staff set their own figures.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("service", sa.Column("expected_start_hours", sa.Integer(), server_default="24", nullable=False))
    op.add_column("service", sa.Column("speed_per_day", sa.Integer(), server_default="1000", nullable=False))
    op.create_check_constraint(op.f("ck_service_expected_start_hours_positive"), "service", "expected_start_hours > 0")
    op.create_check_constraint(op.f("ck_service_speed_per_day_positive"), "service", "speed_per_day > 0")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_service_speed_per_day_positive"), "service", type_="check")
    op.drop_constraint(op.f("ck_service_expected_start_hours_positive"), "service", type_="check")
    op.drop_column("service", "speed_per_day")
    op.drop_column("service", "expected_start_hours")
