"""Credit notes for lost disputes: the card holder's bank took the money back, so the sale is corrected as for a
refund, by a credit note that names the dispute instead of a refund (once per dispute).

Revision ID: 0030
Revises: 0024
Create Date: 2026-12-01 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("invoice", sa.Column("dispute_id", sa.String(64), nullable=True))
    op.create_unique_constraint(op.f("uq_invoice_dispute_id"), "invoice", ["dispute_id"])
    op.create_check_constraint(
        op.f("ck_invoice_dispute_only_on_credit_note"),
        "invoice",
        "kind = 'credit_note' OR dispute_id IS NULL",
    )
    op.create_check_constraint(
        op.f("ck_invoice_one_cause_per_credit_note"), "invoice", "refund_id IS NULL OR dispute_id IS NULL"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_invoice_one_cause_per_credit_note"), "invoice", type_="check")
    op.drop_constraint(op.f("ck_invoice_dispute_only_on_credit_note"), "invoice", type_="check")
    op.drop_constraint(op.f("uq_invoice_dispute_id"), "invoice", type_="unique")
    op.drop_column("invoice", "dispute_id")
