"""Exports for the tax advisor from issued invoices: the month's DATEV bookings balance against its documents, and
the ZIP holds exactly the period's PDFs with their stored checksums. Months are Berlin months.

October 2026 seen from Berlin (CEST until 25 October, then CET):
- A issued 2026-09-30 21:30 UTC (23:30 Berlin): September, left out;
- B issued 2026-09-30 22:30 UTC (00:30 Berlin on 1 October): October;
- C issued 2026-10-15, refunded in part on 2026-10-20 (a credit note in October);
- D issued 2026-10-31 22:30 UTC (23:30 Berlin): October;
- E issued 2026-10-31 23:30 UTC (00:30 Berlin on 1 November): November, left out.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.engine import session_factory
from app.i18n import translations
from app.invoicing.archive import INDEX_NAME
from app.invoicing.datev import DatevNumbersMissing
from app.invoicing.exports import NoCompanySettings, datev_file, write_archive
from app.invoicing.models import Invoice, InvoiceKind
from app.orders.models import Order
from app.payments import gateway
from app.payments.refunds import record_refund_result
from app.uow import UnitOfWork
from reports.periods import DateRange, calendar_month
from tests import factories
from tests.integration.invoicing.helpers import STRIPE, invoices_of, pay, requested_refund

OCTOBER = calendar_month("2026-10")


@dataclass(frozen=True)
class Issued:
    numbers: dict[str, str]  # A..E and "credit" -> document number


async def paid_at(session: AsyncSession, moment: datetime, quantity: int = 1000) -> Order:
    service = await factories.service(session, price="2.5000")
    placed = await factories.place_order(
        session, items=[(service, quantity, f"https://www.instagram.com/p/{quantity}/")]
    )
    await pay(UnitOfWork(session, clock=lambda: moment), placed.order)
    return placed.order


async def refunded_at(session: AsyncSession, order: Order, amount: str, moment: datetime) -> None:
    refund = await requested_refund(session, order, amount)
    result = gateway.Refund(
        id=f"re_{order.id}", amount=Decimal(amount), currency="EUR", status="succeeded", payment_intent_id=None
    )
    await record_refund_result(
        UnitOfWork(session, clock=lambda: moment), refund_id=refund.id, actor=STRIPE, result=result
    )


@pytest.fixture
async def issued(session: AsyncSession) -> Issued:
    await factories.company_settings(session)
    orders = {
        "A": await paid_at(session, datetime(2026, 9, 30, 21, 30, tzinfo=UTC), 1000),
        "B": await paid_at(session, datetime(2026, 9, 30, 22, 30, tzinfo=UTC), 2000),
        "C": await paid_at(session, datetime(2026, 10, 15, 12, 0, tzinfo=UTC), 3000),
        "D": await paid_at(session, datetime(2026, 10, 31, 22, 30, tzinfo=UTC), 4000),
        "E": await paid_at(session, datetime(2026, 10, 31, 23, 30, tzinfo=UTC), 5000),
    }
    await refunded_at(session, orders["C"], "2.98", datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    numbers = {}
    for key, order in orders.items():
        for document in await invoices_of(session, order.id):
            numbers["credit" if document.kind is InvoiceKind.CREDIT_NOTE else key] = document.number
    await session.commit()
    return Issued(numbers)


async def october_documents(session: AsyncSession, issued: Issued) -> list[Invoice]:
    wanted = [issued.numbers[key] for key in ("B", "C", "credit", "D")]
    rows = await session.scalars(sa.select(Invoice).where(Invoice.number.in_(wanted)))
    return list(rows.all())


async def october_file(session: AsyncSession) -> bytes:
    return await datev_file(
        session,
        first=OCTOBER.first,
        last=OCTOBER.last,
        start=OCTOBER.start,
        end=OCTOBER.end,
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        exported_by="finance@smplat.example",
    )


def bookings(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    header, columns, *rows = csv.reader(io.StringIO(content.decode("cp1252"), newline=""), delimiter=";")
    return header, [dict(zip(columns, row, strict=True)) for row in rows]


def umsatz(booking: dict[str, str]) -> Decimal:
    return Decimal(booking["Umsatz (ohne Soll/Haben-Kz)"].replace(",", "."))


async def test_the_datev_file_holds_the_berlin_months_documents_and_balances_against_them(
    session: AsyncSession, issued: Issued
):
    header, rows = bookings(await october_file(session))

    assert [row["Belegfeld 1"] for row in rows] == [issued.numbers[key] for key in ("B", "C", "credit", "D")]
    debits = sum((umsatz(row) for row in rows if row["Soll/Haben-Kennzeichen"] == "S"), Decimal(0))
    credits = sum((umsatz(row) for row in rows if row["Soll/Haben-Kennzeichen"] == "H"), Decimal(0))
    documents = await october_documents(session, issued)
    invoices_gross = sum(d.gross for d in documents if d.kind is InvoiceKind.INVOICE)
    credit_notes_gross = sum(-d.gross for d in documents if d.kind is InvoiceKind.CREDIT_NOTE)
    assert (debits, credits) == (invoices_gross, credit_notes_gross) == (Decimal("26.78"), Decimal("2.98"))
    assert [row["Belegdatum"] for row in rows] == ["0110", "1510", "2010", "3110"]
    assert header[10:16] == ["1001", "10001", "20260101", "4", "20261001", "20261031"]


async def test_the_datev_file_books_to_the_accounts_the_company_settings_name(session: AsyncSession, issued: Issued):
    await factories.company_settings(session, datev_debtor_account=12345, datev_account_domestic=8401)
    await session.commit()

    _header, rows = bookings(await october_file(session))

    assert {(row["Konto"], row["Gegenkonto (ohne BU-Schlüssel)"]) for row in rows} == {("12345", "8401")}


async def test_without_the_advisor_numbers_or_any_company_settings_there_is_no_datev_file(
    session: AsyncSession,
):
    with pytest.raises(NoCompanySettings):
        await october_file(session)
    await factories.company_settings(session, datev_consultant_number=None)
    with pytest.raises(DatevNumbersMissing):
        await october_file(session)


async def test_the_zip_holds_exactly_the_periods_pdfs_with_their_stored_checksums(
    engine: AsyncEngine, session: AsyncSession, issued: Issued
):
    target = io.BytesIO()

    count = await write_archive(
        session_factory(engine), target, start=OCTOBER.start, end=OCTOBER.end, translate=translations("de").gettext
    )

    archive = zipfile.ZipFile(target)
    october = [issued.numbers[key] for key in ("B", "C", "credit", "D")]
    assert count == 4
    assert sorted(archive.namelist()) == sorted([f"{number}.pdf" for number in october] + [INDEX_NAME])
    index = list(csv.reader(io.StringIO(archive.read(INDEX_NAME).decode("utf-8-sig"), newline=""), delimiter=";"))
    assert index[0][:3] == ["Nummer", "Art", "Datum"]
    stored = {d.number: d.pdf_sha256 for d in await october_documents(session, issued)}
    for row in index[1:]:
        number, sha256 = row[0], row[-1]
        assert hashlib.sha256(archive.read(f"{number}.pdf")).hexdigest() == sha256 == stored[number]
        assert archive.read(f"{number}.pdf").startswith(b"%PDF")
    rows = {row[0]: row for row in index[1:]}
    assert [row[0] for row in index[1:]] == october
    assert (rows[issued.numbers["credit"]][1], rows[issued.numbers["credit"]][6]) == ("Gutschrift", "-2,98")
    assert rows[issued.numbers["B"]][2] == "2026-10-01"


async def test_a_period_without_documents_gives_an_archive_with_an_empty_index(engine: AsyncEngine, clean_db: str):
    target = io.BytesIO()
    quiet = DateRange(datetime(2030, 1, 1).date(), datetime(2030, 1, 31).date())

    count = await write_archive(
        session_factory(engine), target, start=quiet.start, end=quiet.end, translate=translations("en").gettext
    )

    archive = zipfile.ZipFile(target)
    assert count == 0
    assert archive.namelist() == [INDEX_NAME]
    assert archive.read(INDEX_NAME).decode("utf-8-sig").startswith("Number;Kind;Date;Customer;Net;Tax;Gross")
