"""The order's invoices and credit notes as the tracking page lists them: number, date, amount, and whether the
PDF can be downloaded yet (it is rendered by a job shortly after issue; until then the page says so)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import N_
from app.invoicing.models import Invoice, InvoiceKind

DOCUMENT_KINDS: dict[InvoiceKind, str] = {
    InvoiceKind.INVOICE: N_("Invoice"),
    InvoiceKind.CREDIT_NOTE: N_("Credit note"),
}


@dataclass(frozen=True)
class ClientDocument:
    number: str
    kind: InvoiceKind
    kind_label: str  # catalog id, translated where shown
    issued_at: datetime
    gross: Decimal
    currency: str
    ready: bool  # the PDF is stored: it can be downloaded

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


def client_documents(invoices: Sequence[Invoice]) -> list[ClientDocument]:
    return [
        ClientDocument(
            number=invoice.number,
            kind=invoice.kind,
            kind_label=DOCUMENT_KINDS[invoice.kind],
            issued_at=invoice.issued_at,
            gross=invoice.gross,
            currency=invoice.currency,
            ready=invoice.pdf_sha256 is not None,
        )
        for invoice in invoices
    ]


async def document_pdf(session: AsyncSession, order_id: int, number: str) -> tuple[str, bytes] | None:
    """(number, stored PDF) of the order's document ``number``; None when it is another order's, unknown or not
    rendered yet (the tracking page shows no link then)."""
    row = (
        await session.execute(
            sa.select(Invoice.number, Invoice.pdf).where(Invoice.order_id == order_id, Invoice.number == number)
        )
    ).one_or_none()
    if row is None or row.pdf is None:
        return None
    return row.number, row.pdf
