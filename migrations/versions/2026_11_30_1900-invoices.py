"""Invoices and credit notes, immutable once issued, numbered from gapless per-year series.

``invoice_sequence`` holds the last number per series and year; the issuing transaction raises it under a row
lock, so a rolled-back issue gives its number back. A trigger keeps issued invoices as they were issued (GoBD):
it refuses any DELETE and any UPDATE, except storing the rendered PDF once (from NULL, with its SHA-256).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# §14 UStG, §147 AO, GoBD: an issued invoice is never edited or deleted; corrections are credit notes. The rendered
# PDF is stored once, and only if the checksum recorded with it is the PDF's own.
IMMUTABLE_INVOICE = """
CREATE FUNCTION smplat_invoice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'invoice % is issued: deleting it is refused', OLD.number USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.pdf IS NOT NULL
        OR NEW.pdf IS NULL
        OR NEW.pdf_sha256 IS DISTINCT FROM encode(sha256(NEW.pdf), 'hex')
        OR (to_jsonb(NEW) - 'pdf' - 'pdf_sha256') IS DISTINCT FROM (to_jsonb(OLD) - 'pdf' - 'pdf_sha256')
    THEN
        RAISE EXCEPTION 'invoice % is issued: only its PDF may be stored, once', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "invoice_sequence",
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_number > 0", name=op.f("ck_invoice_sequence_last_number_positive")),
        sa.PrimaryKeyConstraint("series", "year", name=op.f("pk_invoice_sequence")),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False, start=1, increment=1), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("invoice", "credit_note", name="kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("refund_id", sa.BigInteger(), nullable=True),
        sa.Column("corrects_invoice_id", sa.BigInteger(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_from", sa.Date(), nullable=False),
        sa.Column("service_to", sa.Date(), nullable=False),
        sa.Column("locale", sa.String(length=2), nullable=False),
        sa.Column("seller", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("buyer", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tax_rates", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tax", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("gross", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "tax_treatment",
            sa.Enum(
                "domestic",
                "reverse_charge",
                "eu_oss",
                "non_eu_business",
                "non_eu_consumer",
                "small_business",
                name="tax_treatment",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("legal_note", sa.Text(), nullable=True),
        sa.Column("legal_note_translation", sa.Text(), nullable=True),
        sa.Column("payment", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'invoice') = (corrects_invoice_id IS NULL)",
            name=op.f("ck_invoice_credit_note_corrects_an_invoice"),
        ),
        sa.CheckConstraint(
            "kind = 'credit_note' OR refund_id IS NULL", name=op.f("ck_invoice_refund_only_on_credit_note")
        ),
        sa.CheckConstraint("(pdf IS NULL) = (pdf_sha256 IS NULL)", name=op.f("ck_invoice_pdf_with_checksum")),
        sa.CheckConstraint("net + tax = gross", name=op.f("ck_invoice_amounts_add_up")),
        sa.CheckConstraint("service_from <= service_to", name=op.f("ck_invoice_service_period")),
        sa.ForeignKeyConstraint(
            ["corrects_invoice_id"],
            ["invoice.id"],
            name=op.f("fk_invoice_corrects_invoice_id_invoice"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_invoice_customer_id_customer"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_invoice_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refund.id"], name=op.f("fk_invoice_refund_id_refund"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_invoice_number")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_invoice_refund_id")),
    )
    op.create_index(op.f("ix_invoice_customer_id"), "invoice", ["customer_id"], unique=False)
    op.create_index(op.f("ix_invoice_order_id"), "invoice", ["order_id"], unique=False)
    op.create_index(
        "uq_invoice_order_id_invoice",
        "invoice",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'invoice'"),
    )
    op.execute(IMMUTABLE_INVOICE)
    op.execute(
        "CREATE TRIGGER invoice_immutable BEFORE UPDATE OR DELETE ON invoice "
        "FOR EACH ROW EXECUTE FUNCTION smplat_invoice_immutable()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER invoice_immutable ON invoice")
    op.execute("DROP FUNCTION smplat_invoice_immutable()")
    op.drop_index("uq_invoice_order_id_invoice", table_name="invoice", postgresql_where=sa.text("kind = 'invoice'"))
    op.drop_index(op.f("ix_invoice_order_id"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_customer_id"), table_name="invoice")
    op.drop_table("invoice")
    op.drop_table("invoice_sequence")
