"""Orders keep the buyer facts their tax was decided on; the seller says how its services are classified for VAT.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("buyer_country", sa.String(length=2), server_default="DE", nullable=False))
    op.add_column("orders", sa.Column("buyer_is_business", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("orders", sa.Column("buyer_vat_id", sa.String(length=20), nullable=True))
    op.add_column(
        "company_settings",
        sa.Column("service_classification", sa.String(length=32), server_default="electronic", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_company_settings_service_classification"),
        "company_settings",
        "service_classification IN ('electronic', 'general')",
    )
    # EU cross-border consumer sales per year (the €10,000 OSS threshold) read from here.
    op.create_index(
        "ix_orders_cross_border_b2c",
        "orders",
        ["paid_at"],
        postgresql_where=sa.text("buyer_country <> 'DE' AND NOT buyer_is_business AND paid_at IS NOT NULL"),
        postgresql_include=["net", "buyer_country", "tax_treatment"],
    )


def downgrade() -> None:
    op.drop_index("ix_orders_cross_border_b2c", table_name="orders")
    op.drop_constraint(op.f("ck_company_settings_service_classification"), "company_settings", type_="check")
    op.drop_column("company_settings", "service_classification")
    op.drop_column("orders", "buyer_vat_id")
    op.drop_column("orders", "buyer_is_business")
    op.drop_column("orders", "buyer_country")
