"""Invoices and their gapless number ranges.

An issued invoice is a legal document (§14 UStG) and a book of account (GoBD): the row holds everything printed
on it as a snapshot, and a database trigger refuses any change to it and any deletion. The one write it allows
is storing the rendered PDF (with its SHA-256) once, from NULL.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.db.base import JSONB, Currency, DateTimeUTC, DefaultBase, IdentityBase, Money, enum_type, server_now
from app.invoicing.tax import TaxTreatment

if TYPE_CHECKING:
    from app.lexoffice.models import LexofficeSync


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"  # Rechnungskorrektur: reverses (part of) an invoice, never edits it


# A credit note's payment method when no money moves with it: finance corrected the document by hand (a price
# reduction agreed, a wrong invoice cancelled).
CORRECTION = "correction"

# Number prefix per kind: RE-2026-000123, GS-2026-000001.
SERIES: dict[InvoiceKind, str] = {InvoiceKind.INVOICE: "RE", InvoiceKind.CREDIT_NOTE: "GS"}


class InvoiceSequence(DefaultBase):
    """The last number issued per series and year; its row is locked and raised in the issuing transaction, so a
    rolled-back issue gives its number back (a PostgreSQL SEQUENCE would not: it has gaps)."""

    __tablename__ = "invoice_sequence"

    series: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    last_number: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.CheckConstraint("last_number > 0", name="last_number_positive"),)


class Invoice(IdentityBase):
    __tablename__ = "invoice"

    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    kind: Mapped[InvoiceKind] = mapped_column(enum_type(InvoiceKind, "kind"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refund.id", ondelete="RESTRICT"), unique=True)
    dispute_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)  # Stripe's id of a lost dispute
    corrects_invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoice.id", ondelete="RESTRICT"))
    # An invoice issued in place of one cancelled by a full credit note (a wrong buyer address): names it, once.
    replaces_invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invoice.id", ondelete="RESTRICT"), unique=True
    )
    issued_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    service_from: Mapped[date] = mapped_column(sa.Date)
    service_to: Mapped[date] = mapped_column(sa.Date)
    locale: Mapped[str] = mapped_column(sa.String(2))
    seller: Mapped[dict[str, Any]] = mapped_column(JSONB)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    tax_rates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{rate, net, tax, gross}] per rate
    currency: Mapped[str] = mapped_column(Currency)
    net: Mapped[Decimal] = mapped_column(Money)
    tax: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    tax_treatment: Mapped[TaxTreatment] = mapped_column(enum_type(TaxTreatment, "tax_treatment"))
    legal_note: Mapped[str | None] = mapped_column(sa.Text)  # German, as the law words it
    legal_note_translation: Mapped[str | None] = mapped_column(sa.Text)  # in the buyer's language when not German
    payment: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {method, paid_at, reference}
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=server_now())
    # Its booking in Lexware Office (a table of its own: this row never changes); loaded only where asked for.
    lexoffice_sync: Mapped[LexofficeSync | None] = relationship(viewonly=True, lazy="raise")
    # The order's number, loaded where a list or page shows it (with_expression).
    order_number: Mapped[str | None] = query_expression()
    # What the invoice's credit notes credited (negative), and the number of the invoice a credit note corrects or
    # an invoice replaces: loaded where shown.
    credited: Mapped[Decimal | None] = query_expression()
    referenced_number: Mapped[str | None] = query_expression()

    __table_args__ = (
        # One first invoice per order (any further one replaces a cancelled one); credit notes as many as needed.
        sa.Index(
            "uq_invoice_order_id_invoice",
            "order_id",
            unique=True,
            postgresql_where=sa.text("kind = 'invoice' AND replaces_invoice_id IS NULL"),
        ),
        # The bookkeeping report reads the documents issued in a period.
        # With the id, a period's documents are counted from the index alone (invoices are never updated, so
        # their pages stay all-visible) instead of reading the wide rows.
        sa.Index("ix_invoice_issued_at", "issued_at", postgresql_include=["id"]),
        sa.CheckConstraint(
            "(kind = 'invoice') = (corrects_invoice_id IS NULL)", name="credit_note_corrects_an_invoice"
        ),
        sa.CheckConstraint("kind = 'credit_note' OR refund_id IS NULL", name="refund_only_on_credit_note"),
        sa.CheckConstraint("kind = 'credit_note' OR dispute_id IS NULL", name="dispute_only_on_credit_note"),
        sa.CheckConstraint("refund_id IS NULL OR dispute_id IS NULL", name="one_cause_per_credit_note"),
        sa.CheckConstraint("kind = 'invoice' OR replaces_invoice_id IS NULL", name="replacement_is_an_invoice"),
        sa.CheckConstraint("net + tax = gross", name="amounts_add_up"),
        sa.CheckConstraint("service_from <= service_to", name="service_period"),
        sa.CheckConstraint("(pdf IS NULL) = (pdf_sha256 IS NULL)", name="pdf_with_checksum"),
    )

    def __str__(self) -> str:
        return self.number


# The sync row's model registered wherever invoices are (the relationship above names it): scripts and jobs that
# load only this module still map invoices.
import app.lexoffice.models  # noqa: E402, F401
