"""Cancel and reissue: a wrong invoice is cancelled by a full credit note and replaced, in one transaction, by an
invoice for the same order made out from the customer's current data; refunds then correct the replacement."""

from __future__ import annotations

import asyncio
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.actors import Actor
from app.customers.models import Customer
from app.db.engine import session_factory
from app.errors import Conflict
from app.invoicing.commands import invoice_of_order, issue_invoice
from app.invoicing.credit_notes import issue_manual_credit_note
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.reissue import cancel_and_reissue
from app.invoicing.snapshots import berlin_day
from app.invoicing.storage import order_invoice_pdf, store_pdf
from app.orders.models import Order
from app.uow import UnitOfWork, unit_of_work
from tests.integration.invoicing.helpers import STRIPE, invoices_of
from tests.integration.invoicing.test_credit_notes import paid_order, refunded

FINANCE = Actor.system("finance test")
D = Decimal


async def moved(session: AsyncSession, order: Order) -> Invoice:
    """The customer's address corrected after the invoice was issued; returns that (wrong) invoice."""
    customer = await session.get_one(Customer, order.customer_id)
    customer.address_line1, customer.postal_code, customer.city = "Neue Straße 7", "10115", "Berlin"
    await session.flush()
    (invoice,) = await invoices_of(session, order.id)
    return invoice


async def test_the_replacement_carries_the_current_address_and_the_same_amounts(session: AsyncSession):
    order = await paid_order(session)
    wrong = await moved(session, order)

    cancellation, replacement = await cancel_and_reissue(
        UnitOfWork(session), invoice_id=wrong.id, reason="wrong address", actor=FINANCE
    )

    assert (cancellation.kind, cancellation.corrects_invoice_id, cancellation.gross) == (
        InvoiceKind.CREDIT_NOTE,
        wrong.id,
        -wrong.gross,
    )
    assert cancellation.lines[0]["link"] == "wrong address"
    assert replacement.kind == InvoiceKind.INVOICE
    assert replacement.replaces_invoice_id == wrong.id
    assert re.fullmatch(r"RE-\d{4}-000002", replacement.number)
    assert (replacement.net, replacement.tax, replacement.gross) == (wrong.net, wrong.tax, wrong.gross)
    assert replacement.lines == wrong.lines
    assert replacement.buyer["address_line1"] == "Neue Straße 7"
    assert wrong.buyer["address_line1"] != "Neue Straße 7"
    assert (await invoice_of_order(UnitOfWork(session), order.id)).id == replacement.id
    # A payment's repeated delivery finds the invoice in force instead of issuing another.
    assert (await issue_invoice(UnitOfWork(session), order, STRIPE)).id == replacement.id
    number, _pdf = await order_invoice_pdf(session, order.id)
    assert number == replacement.number


async def test_a_refund_after_the_reissue_corrects_the_replacement(session: AsyncSession):
    order = await paid_order(session)
    wrong = await moved(session, order)
    _cancellation, replacement = await cancel_and_reissue(
        UnitOfWork(session), invoice_id=wrong.id, reason="wrong address", actor=FINANCE
    )

    await refunded(session, order, "2.98", key="after-reissue", line_id=order.lines[0].id)

    credit = await session.scalar(sa.select(Invoice).where(Invoice.refund_id.is_not(None)))
    assert credit is not None
    assert (credit.corrects_invoice_id, credit.gross) == (replacement.id, D("-2.98"))


async def test_an_invoice_already_credited_is_not_replaced(session: AsyncSession):
    order = await paid_order(session)
    wrong = await moved(session, order)
    await issue_manual_credit_note(
        UnitOfWork(session), invoice_id=wrong.id, amount=D("1.00"), reason="discount", actor=FINANCE
    )

    with pytest.raises(Conflict, match=f"Invoice {wrong.number} has credit notes already"):
        await cancel_and_reissue(UnitOfWork(session), invoice_id=wrong.id, reason="wrong address", actor=FINANCE)

    assert len(await invoices_of(session, order.id)) == 2


async def test_a_credit_note_is_not_reissued(session: AsyncSession):
    order = await paid_order(session)
    wrong = await moved(session, order)
    cancellation, _replacement = await cancel_and_reissue(
        UnitOfWork(session), invoice_id=wrong.id, reason="wrong address", actor=FINANCE
    )

    with pytest.raises(Conflict, match=f"{cancellation.number} is a credit note"):
        await cancel_and_reissue(UnitOfWork(session), invoice_id=cancellation.id, reason="again", actor=FINANCE)


async def test_two_concurrent_reissues_of_one_invoice_issue_one_replacement(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        order = await paid_order(uow.session)
        wrong = await moved(uow.session, order)

    async def reissue() -> str:
        try:
            async with unit_of_work(sessions) as uow:
                _cancellation, replacement = await cancel_and_reissue(
                    uow, invoice_id=wrong.id, reason="wrong address", actor=FINANCE
                )
                await asyncio.sleep(0.2)  # the other one is waiting for the order's lock by now
                return replacement.number
        except Conflict as refused:
            return refused.message

    outcomes = sorted(await asyncio.gather(reissue(), reissue()))

    assert re.fullmatch(r"RE-\d{4}-000002", outcomes[1])
    assert outcomes[0].startswith(f"Invoice {wrong.number} has credit notes already")
    async with sessions() as session:
        rows = await invoices_of(session, order.id)
    assert sorted(row.gross for row in rows) == [D("-11.90"), D("11.90"), D("11.90")]


async def test_the_replacements_pdf_names_the_invoice_it_replaces(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        order = await paid_order(uow.session)
        wrong = await moved(uow.session, order)
        _cancellation, replacement = await cancel_and_reissue(
            uow, invoice_id=wrong.id, reason="Falsche Anschrift", actor=FINANCE
        )

    await store_pdf(sessions, replacement.id)
    async with sessions() as session:
        pdf = await session.scalar(sa.select(Invoice.pdf).where(Invoice.id == replacement.id))
    assert pdf is not None
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    day = berlin_day(wrong.issued_at).strftime("%d.%m.%Y")
    assert f"Rechnung {replacement.number}" in text
    assert f"Ersetzt die Rechnung {wrong.number} vom {day}" in text
    assert "Neue Straße 7" in text
