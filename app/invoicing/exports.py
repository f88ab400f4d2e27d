"""Exports for the tax advisor: the DATEV file of a month, the PDFs of a period and the month's Stripe balance
transactions for the clearing account, for the CLI and the back office.

A period is given as its first instant and the first instant after it (Berlin midnights, in UTC); documents
count by the moment they were issued. Read-only, except that a PDF whose rendering job has not run yet is
rendered and stored first (``app.invoicing.storage``, the job's own step), so the archive is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import IO

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased, undefer

from app.company.models import CompanySettings
from app.company.services import SINGLETON_ID
from app.errors import DomainError
from app.i18n import N_, Translate
from app.invoicing.archive import InvoiceArchive
from app.invoicing.datev import DatevAccounts, buchungsstapel
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.storage import store_pdf
from app.invoicing.stripe_clearing import OurDocument, OurRecords, clearing_csv
from app.orders.models import Order
from app.payments.balance import BalanceHistory
from app.payments.models import Payment, Refund

PDF_BATCH = 50  # PDFs held in memory at once while the archive is written


class NoCompanySettings(DomainError):
    code = "no_company_settings"
    title = N_("Company settings missing")


def _issued_between(start: datetime, end: datetime) -> sa.Select[tuple[Invoice]]:
    return (
        sa.select(Invoice)
        .where(Invoice.issued_at >= start, Invoice.issued_at < end)
        .order_by(Invoice.issued_at, Invoice.id)
    )


async def documents_issued(session: AsyncSession, start: datetime, end: datetime) -> Sequence[Invoice]:
    """Invoices and credit notes issued in ``[start, end)``, in the order they were issued (PDFs not loaded)."""
    return (await session.scalars(_issued_between(start, end))).all()


async def datev_file(
    session: AsyncSession,
    *,
    first: date,
    last: date,
    start: datetime,
    end: datetime,
    created_at: datetime,
    exported_by: str,
) -> bytes:
    """The DATEV Buchungsstapel of the documents issued in the period, with the company's DATEV accounts."""
    company = await session.get(CompanySettings, SINGLETON_ID)
    if company is None:
        raise NoCompanySettings(N_("Enter the company settings first."))
    accounts = DatevAccounts.of(company)
    documents = await documents_issued(session, start, end)
    return buchungsstapel(documents, accounts, first=first, last=last, created_at=created_at, exported_by=exported_by)


async def write_archive(
    sessions: async_sessionmaker[AsyncSession],
    target: IO[bytes],
    *,
    start: datetime,
    end: datetime,
    translate: Translate,
) -> int:
    """Write the ZIP of the period's PDFs (and its index) to ``target``; returns how many documents it holds."""
    async with sessions() as session:
        documents = await documents_issued(session, start, end)
    for document in documents:
        if document.pdf_sha256 is None:
            await store_pdf(sessions, document.id)
    archive = InvoiceArchive(target, translate)
    for offset in range(0, len(documents), PDF_BATCH):
        ids = [document.id for document in documents[offset : offset + PDF_BATCH]]
        async with sessions() as session:
            rows = await session.scalars(
                sa.select(Invoice)
                .where(Invoice.id.in_(ids))
                .order_by(Invoice.issued_at, Invoice.id)
                .options(undefer(Invoice.pdf))
            )
            for document in rows:
                assert document.pdf is not None  # stored above; the trigger never removes it
                archive.add(document, document.pdf)
    archive.close()
    return len(documents)


async def stripe_clearing_file(
    session: AsyncSession,
    history: BalanceHistory,
    *,
    start: datetime,
    end: datetime,
    translate: Translate,
    german_excel: bool = True,
) -> bytes:
    """The clearing account's CSV of the Stripe balance transactions made in ``[start, end)``."""
    transactions = await history.balance_transactions(start, end)
    opening = await history.balance_before(start)
    ours = await our_records(
        session,
        payment_intents={txn.payment_intent_id for txn in transactions if txn.payment_intent_id},
        refunds={txn.source_id for txn in transactions if txn.type == "refund" and txn.source_id},
    )
    return clearing_csv(transactions, ours, opening, translate, german_excel=german_excel)


async def our_records(session: AsyncSession, *, payment_intents: set[str], refunds: set[str]) -> OurRecords:
    """Our orders with their first invoice by Stripe payment intent; our credit notes by Stripe refund id."""
    invoice = aliased(Invoice)
    paid = await session.execute(
        sa.select(Payment.stripe_payment_intent_id, Order.number, invoice.number)
        .join(Order, Order.id == Payment.order_id)
        .outerjoin(invoice, sa.and_(invoice.order_id == Order.id, invoice.kind == InvoiceKind.INVOICE))
        .where(Payment.stripe_payment_intent_id.in_(payment_intents))
        .order_by(invoice.id.desc().nulls_first())  # the order's first invoice comes last and is kept
    )
    credit_note = aliased(Invoice)
    refunded = await session.execute(
        sa.select(Refund.stripe_refund_id, Order.number, credit_note.number)
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Order, Order.id == Payment.order_id)
        .outerjoin(credit_note, credit_note.refund_id == Refund.id)
        .where(Refund.stripe_refund_id.in_(refunds))
    )
    payments = {intent: OurDocument(order, number) for intent, order, number in paid.tuples() if intent}
    by_refund = {refund: OurDocument(order, number) for refund, order, number in refunded.tuples() if refund}
    return OurRecords(payments, by_refund)
