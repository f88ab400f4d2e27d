"""Credit notes finance issues by hand: a correction of the invoice, at most what is left on it, no money moves."""

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
from app.audit.models import AuditLog
from app.db.engine import session_factory
from app.errors import Conflict, ValidationFailed
from app.invoicing.credit_notes import issue_manual_credit_note
from app.invoicing.models import CORRECTION, Invoice, InvoiceKind
from app.invoicing.snapshots import berlin_day
from app.invoicing.storage import store_pdf
from app.orders.models import Order
from app.orders.states import PaymentStatus
from app.payments.models import Refund
from app.uow import UnitOfWork, unit_of_work
from tests.integration.invoicing.helpers import invoices_of
from tests.integration.invoicing.test_credit_notes import paid_order, refunded

FINANCE = Actor.system("finance test")
D = Decimal


async def the_invoice(session: AsyncSession, order: Order) -> Invoice:
    (invoice,) = [row for row in await invoices_of(session, order.id) if row.kind == InvoiceKind.INVOICE]
    return invoice


async def credit(session: AsyncSession, invoice_id: int, amount: str, reason: str = "price reduction agreed"):
    return await issue_manual_credit_note(
        UnitOfWork(session), invoice_id=invoice_id, amount=D(amount), reason=reason, actor=FINANCE
    )


async def test_a_partial_credit_note_reduces_the_invoice_by_the_amount_without_moving_money(session: AsyncSession):
    order = await paid_order(session)
    invoice = await the_invoice(session, order)

    note = await credit(session, invoice.id, "5.95", "  discount agreed on the phone  ")

    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert re.fullmatch(r"GS-\d{4}-000001", note.number)
    assert note.corrects_invoice_id == invoice.id
    assert (note.net, note.tax, note.gross) == (D("-5.00"), D("-0.95"), D("-5.95"))
    assert note.lines[0]["link"] == "discount agreed on the phone"
    assert (note.refund_id, note.dispute_id, note.payment["method"]) == (None, None, CORRECTION)
    assert (await session.scalars(sa.select(Refund))).all() == []
    assert (await session.get_one(Order, order.id)).payment_status == PaymentStatus.PAID
    audit = await session.scalar(sa.select(AuditLog).where(AuditLog.action == "issue-credit-note"))
    assert audit is not None
    assert audit.actor_label == "finance test"
    assert audit.diff == {
        "number": note.number,
        "corrects": invoice.number,
        "reason": "discount agreed on the phone",
    }


async def test_crediting_all_of_the_invoice_cancels_it_and_nothing_more_can_be_credited(session: AsyncSession):
    order = await paid_order(session)
    invoice = await the_invoice(session, order)

    note = await credit(session, invoice.id, "11.90", "wrong buyer address")

    assert note.gross == -invoice.gross
    assert (note.net, note.tax) == (-invoice.net, -invoice.tax)
    with pytest.raises(Conflict, match=f"Invoice {invoice.number} is fully credited already"):
        await credit(session, invoice.id, "0.01")
    assert len(await invoices_of(session, order.id)) == 2


async def test_more_than_what_is_left_is_refused_saying_how_much_is_left(session: AsyncSession):
    order = await paid_order(session)
    invoice = await the_invoice(session, order)
    await credit(session, invoice.id, "5.00")

    with pytest.raises(ValidationFailed) as refused:
        await credit(session, invoice.id, "6.91")

    assert refused.value.field_errors() == {"amount": f"at most 6.90 EUR is left to credit on invoice {invoice.number}"}
    assert len(await invoices_of(session, order.id)) == 2
    assert (await credit(session, invoice.id, "6.90")).gross == D("-6.90")


async def test_a_credit_note_cannot_be_corrected_by_another(session: AsyncSession):
    order = await paid_order(session)
    first = await credit(session, (await the_invoice(session, order)).id, "1.00")

    with pytest.raises(Conflict, match=f"{first.number} is a credit note"):
        await credit(session, first.id, "1.00")

    assert len(await invoices_of(session, order.id)) == 2


@pytest.mark.parametrize(
    ("amount", "reason", "errors"),
    [
        ("0", "why", {"amount": "must be more than zero"}),
        ("-1.00", "why", {"amount": "must be more than zero"}),
        ("1.005", "why", {"amount": "at most 2 decimal places"}),
        ("1.00", "   ", {"reason": "required"}),
        ("0", "", {"amount": "must be more than zero", "reason": "required"}),
        ("1.00", "x" * 301, {"reason": "at most 300 characters"}),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_issued(session: AsyncSession, amount, reason, errors):
    order = await paid_order(session)
    invoice = await the_invoice(session, order)

    with pytest.raises(ValidationFailed) as refused:
        await credit(session, invoice.id, amount, reason)

    assert refused.value.field_errors() == errors
    assert [row.id for row in await invoices_of(session, order.id)] == [invoice.id]


async def test_a_refund_after_a_correction_credits_at_most_what_is_left(session: AsyncSession):
    order = await paid_order(session)
    invoice = await the_invoice(session, order)
    await credit(session, invoice.id, "10.00", "price reduction agreed")

    await refunded(session, order, "2.98", key="after-correction", line_id=order.lines[0].id)
    await refunded(session, order, "8.92", key="nothing-left", line_id=order.lines[1].id)

    credits = sorted(
        (row for row in await invoices_of(session, order.id) if row.kind == InvoiceKind.CREDIT_NOTE),
        key=lambda row: row.id,
    )
    assert [row.gross for row in credits] == [D("-10.00"), D("-1.90")]
    assert sum(row.gross for row in credits) == -invoice.gross


async def test_two_concurrent_cancellations_of_one_invoice_issue_one_credit_note(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        order = await paid_order(uow.session)
        invoice = await the_invoice(uow.session, order)

    async def cancel() -> str:
        try:
            async with unit_of_work(sessions) as uow:
                note = await issue_manual_credit_note(
                    uow, invoice_id=invoice.id, amount=D("11.90"), reason="wrong invoice", actor=FINANCE
                )
                await asyncio.sleep(0.2)  # the other one is waiting for the order's lock by now
                return note.number
        except Conflict as refused:
            return refused.message

    outcomes = sorted(await asyncio.gather(cancel(), cancel()))

    assert outcomes[0].startswith("GS-")
    assert outcomes[1] == f"Invoice {invoice.number} is fully credited already."
    async with sessions() as session:
        rows = await invoices_of(session, order.id)
    assert sorted(row.gross for row in rows) == [D("-11.90"), D("11.90")]


async def test_the_pdf_names_the_corrected_invoice_and_prints_the_reason(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        order = await paid_order(uow.session)
        invoice = await the_invoice(uow.session, order)
        note = await issue_manual_credit_note(
            uow, invoice_id=invoice.id, amount=D("11.90"), reason="Falsche Rechnungsanschrift", actor=FINANCE
        )

    await store_pdf(sessions, note.id)
    async with sessions() as session:
        pdf = await session.scalar(sa.select(Invoice.pdf).where(Invoice.id == note.id))
    assert pdf is not None
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    day = berlin_day(invoice.issued_at).strftime("%d.%m.%Y")
    assert f"Gutschrift {note.number}" in text
    assert f"Korrektur der Rechnung {invoice.number} vom {day}" in text
    assert "Falsche Rechnungsanschrift" in text
    assert "Gutschriftsbetrag -11,90 €" in text
    assert "Mit dieser Gutschrift ist keine Zahlung verbunden" in text
    assert "erstattet" not in text
