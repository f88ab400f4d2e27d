"""Lexware Office sync: one row per issued invoice or credit note, beside the immutable invoice row.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lexoffice_sync",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "voucher_created",
                "synced",
                "failed",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("voucher_id", sa.String(length=64), nullable=True),
        sa.Column("file_uploaded", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("create_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_lexoffice_sync_attempts_not_negative")),
        sa.CheckConstraint(
            "status = 'pending' OR status = 'failed' OR voucher_id IS NOT NULL",
            name=op.f("ck_lexoffice_sync_voucher_known"),
        ),
        sa.CheckConstraint("status <> 'synced' OR file_uploaded", name=op.f("ck_lexoffice_sync_synced_with_file")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_lexoffice_sync_invoice_id_invoice"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lexoffice_sync")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_lexoffice_sync_invoice_id")),
        sa.UniqueConstraint("voucher_id", name=op.f("uq_lexoffice_sync_voucher_id")),
    )
    op.create_index(
        "ix_lexoffice_sync_due",
        "lexoffice_sync",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status <> 'synced'"),
    )


def downgrade() -> None:
    op.drop_index("ix_lexoffice_sync_due", table_name="lexoffice_sync", postgresql_where=sa.text("status <> 'synced'"))
    op.drop_table("lexoffice_sync")
