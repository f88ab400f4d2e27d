"""An issued invoice is kept as issued: the database refuses edits and deletions, even in raw SQL; the PDF is
stored once, with its own checksum, and downloads return the same bytes."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.engine import session_factory
from app.invoicing.models import Invoice
from app.invoicing.storage import store_pdf
from app.uow import UnitOfWork, unit_of_work
from tests import factories
from tests.integration.invoicing.helpers import invoices_of, pay


async def issued(session: AsyncSession) -> Invoice:
    await factories.company_settings(session)
    order = (await factories.place_order(session)).order
    await pay(UnitOfWork(session), order)
    (invoice,) = await invoices_of(session, order.id)
    return invoice


async def refused(session: AsyncSession, sql: str, **params: object) -> str:
    with pytest.raises(DBAPIError) as excinfo:
        async with session.begin_nested():
            await session.execute(sa.text(sql), params)
    return str(excinfo.value)


@pytest.mark.parametrize(
    "assignment",
    [
        "number = 'RE-2026-999999'",
        "gross = gross + 1, net = net + 1",
        "buyer = '{}'::jsonb",
        "lines = '[]'::jsonb",
        "legal_note = 'edited'",
        "issued_at = issued_at - interval '1 day'",
        "tax_treatment = 'reverse_charge'",
    ],
)
async def test_no_legal_field_of_an_issued_invoice_can_be_updated(session: AsyncSession, assignment: str):
    invoice = await issued(session)

    error = await refused(session, f"UPDATE invoice SET {assignment} WHERE id = :id", id=invoice.id)

    assert "only its PDF may be stored, once" in error


async def test_an_issued_invoice_cannot_be_deleted(session: AsyncSession):
    invoice = await issued(session)

    error = await refused(session, "DELETE FROM invoice WHERE id = :id", id=invoice.id)

    assert "deleting it is refused" in error
    assert await invoices_of(session, invoice.order_id) != []


async def test_the_pdf_is_stored_once_and_only_with_its_own_checksum(session: AsyncSession):
    invoice = await issued(session)
    pdf = b"%PDF-1.4 rendered"
    digest = hashlib.sha256(pdf).hexdigest()
    store = "UPDATE invoice SET pdf = :pdf, pdf_sha256 = :sha WHERE id = :id"

    assert "only its PDF" in await refused(session, store, pdf=pdf, sha="0" * 64, id=invoice.id)
    await session.execute(sa.text(store), {"pdf": pdf, "sha": digest, "id": invoice.id})
    other = b"%PDF-1.4 another"
    error = await refused(session, store, pdf=other, sha=hashlib.sha256(other).hexdigest(), id=invoice.id)
    assert "only its PDF" in error
    assert "only its PDF" in await refused(
        session, "UPDATE invoice SET pdf = NULL, pdf_sha256 = NULL WHERE id = :id", id=invoice.id
    )


async def test_the_render_job_stores_the_pdf_once_and_downloads_stay_the_same_bytes(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        invoice = await issued(uow.session)

    first = await store_pdf(sessions, invoice.id)
    again = await store_pdf(sessions, invoice.id)

    async with sessions() as session:
        pdf = await session.scalar(sa.select(Invoice.pdf).where(Invoice.id == invoice.id))
    assert pdf is not None
    assert pdf.startswith(b"%PDF-")
    assert first == again == hashlib.sha256(pdf).hexdigest()
    assert await store_pdf(sessions, invoice.id + 1000) is None
