"""The DATEV accounts of the company settings: who the bookings are for and which accounts they go to.

Beraternummer and Mandantennummer identify the tax advisor's client in DATEV; the debtor account takes every
invoice (one collective debtor), and one revenue account per tax treatment takes its net. The defaults are the
SKR03 accounts the treatments usually book to; the advisor may name others.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNTS = {
    "datev_debtor_account": 10000,
    "datev_account_domestic": 8400,
    "datev_account_reverse_charge": 8336,
    "datev_account_eu_oss": 8331,
    "datev_account_non_eu_business": 8338,
    "datev_account_non_eu_consumer": 8338,
    "datev_account_small_business": 8195,
}


def upgrade() -> None:
    op.add_column("company_settings", sa.Column("datev_consultant_number", sa.Integer(), nullable=True))
    op.add_column("company_settings", sa.Column("datev_client_number", sa.Integer(), nullable=True))
    for name, default in ACCOUNTS.items():
        op.add_column(
            "company_settings", sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text(str(default)))
        )


def downgrade() -> None:
    for name in reversed(ACCOUNTS):
        op.drop_column("company_settings", name)
    op.drop_column("company_settings", "datev_client_number")
    op.drop_column("company_settings", "datev_consultant_number")
