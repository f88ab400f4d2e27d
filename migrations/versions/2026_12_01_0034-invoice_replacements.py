"""A wrong invoice cancelled by a full credit note may be replaced: the replacement names the invoice it replaces
(once per invoice), and an order has one invoice that replaces none (its first).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-01 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("invoice", sa.Column("replaces_invoice_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_invoice_replaces_invoice_id_invoice"),
        "invoice",
        "invoice",
        ["replaces_invoice_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_unique_constraint(op.f("uq_invoice_replaces_invoice_id"), "invoice", ["replaces_invoice_id"])
    op.create_check_constraint(
        op.f("ck_invoice_replacement_is_an_invoice"), "invoice", "kind = 'invoice' OR replaces_invoice_id IS NULL"
    )
    op.drop_index("uq_invoice_order_id_invoice", table_name="invoice", postgresql_where=sa.text("kind = 'invoice'"))
    op.create_index(
        "uq_invoice_order_id_invoice",
        "invoice",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'invoice' AND replaces_invoice_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_invoice_order_id_invoice",
        table_name="invoice",
        postgresql_where=sa.text("kind = 'invoice' AND replaces_invoice_id IS NULL"),
    )
    op.create_index(
        "uq_invoice_order_id_invoice",
        "invoice",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'invoice'"),
    )
    op.drop_constraint(op.f("ck_invoice_replacement_is_an_invoice"), "invoice", type_="check")
    op.drop_constraint(op.f("uq_invoice_replaces_invoice_id"), "invoice", type_="unique")
    op.drop_constraint(op.f("fk_invoice_replaces_invoice_id_invoice"), "invoice", type_="foreignkey")
    op.drop_column("invoice", "replaces_invoice_id")
