"""Credit notes: each succeeded refund corrects the invoice by its own numbered document, once."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.engine import session_factory
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.snapshots import berlin_day
from app.invoicing.storage import store_pdf
from app.orders.models import Order, OrderEvent
from app.payments import gateway
from app.payments.disputes import close_dispute
from app.payments.models import Payment, Refund
from app.payments.refunds import record_refund_result
from app.uow import UnitOfWork, unit_of_work
from tests import factories
from tests.integration.invoicing.helpers import STRIPE, invoices_of, pay


async def refunded(session: AsyncSession, order: Order, amount: str, *, key: str, line_id: int | None = None) -> Refund:
    payment = await session.scalar(sa.select(Payment).where(Payment.order_id == order.id))
    assert payment is not None
    refund = Refund(
        payment_id=payment.id,
        order_line_id=line_id,
        amount=Decimal(amount),
        currency="EUR",
        reason="client cancelled",
        idempotency_key=key,
        requested_by="finance@smplat.example",
    )
    session.add(refund)
    await session.flush()
    result = gateway.Refund(
        id=f"re_{key}", amount=Decimal(amount), currency="EUR", status="succeeded", payment_intent_id=None
    )
    for _ in range(2):  # the processor's answer arrives twice (API response and webhook)
        await record_refund_result(UnitOfWork(session), refund_id=refund.id, actor=STRIPE, result=result)
    return refund


async def paid_order(session: AsyncSession) -> Order:
    """Gross 11.90: nets 2.50 + 7.50 at 19 %."""
    await factories.company_settings(session)
    service = await factories.service(session, price="2.5000")
    items = [(service, 1000, "https://www.instagram.com/p/a/"), (service, 3000, "https://www.instagram.com/p/b/")]
    order = (await factories.place_order(session, items=items)).order
    await pay(UnitOfWork(session), order)
    return order


async def test_a_succeeded_refund_issues_one_credit_note_reversing_its_net_and_vat(session: AsyncSession):
    order = await paid_order(session)
    line = order.lines[0]

    refund = await refunded(session, order, "2.98", key="one", line_id=line.id)

    invoice, credit = sorted(await invoices_of(session, order.id), key=lambda row: row.id)
    assert credit.kind == InvoiceKind.CREDIT_NOTE
    assert credit.refund_id == refund.id
    assert credit.corrects_invoice_id == invoice.id
    assert re.fullmatch(r"GS-\d{4}-000001", credit.number)
    assert (credit.net, credit.tax, credit.gross) == (Decimal("-2.50"), Decimal("-0.48"), Decimal("-2.98"))
    assert credit.lines[0]["description"] == invoice.lines[0]["description"]
    assert credit.tax_treatment == invoice.tax_treatment


async def test_every_refund_gets_its_own_consecutive_credit_note_and_a_full_refund_reverses_the_invoice(
    session: AsyncSession,
):
    order = await paid_order(session)

    await refunded(session, order, "2.98", key="first", line_id=order.lines[0].id)
    await refunded(session, order, "8.92", key="second", line_id=order.lines[1].id)

    rows = await invoices_of(session, order.id)
    credits = sorted((row for row in rows if row.kind == InvoiceKind.CREDIT_NOTE), key=lambda row: row.number)
    (invoice,) = [row for row in rows if row.kind == InvoiceKind.INVOICE]
    assert [row.number[-6:] for row in credits] == ["000001", "000002"]
    assert sum(row.gross for row in credits) == -invoice.gross
    assert sum(row.net for row in credits) + invoice.net == 0
    assert sum(row.tax for row in credits) + invoice.tax == 0


async def test_the_credit_note_pdf_names_the_invoice_it_corrects(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        order = await paid_order(uow.session)
        await refunded(uow.session, order, "11.90", key="all")

    async with sessions() as session:
        invoice, credit = sorted(await invoices_of(session, order.id), key=lambda row: row.id)
    await store_pdf(sessions, credit.id)
    async with sessions() as session:
        pdf = await session.scalar(sa.select(Invoice.pdf).where(Invoice.id == credit.id))
    assert pdf is not None
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    day = berlin_day(invoice.issued_at).strftime("%d.%m.%Y")
    assert f"Gutschrift {credit.number}" in text
    assert f"Korrektur der Rechnung {invoice.number} vom {day}" in text
    assert "Gutschriftsbetrag -11,90 €" in text
    assert "Summe netto -10,00 €" in text
    assert "Der Betrag wird auf das Zahlungsmittel erstattet, mit dem Sie bezahlt haben." in text
    assert "Bezahlt" not in text
    assert "zzgl. 19 % USt. -1,90 €" in text


def lost_dispute(order: Order, amount: int, dispute_id: str = "dp_lost_1") -> dict[str, object]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "currency": "eur",
        "payment_intent": f"pi_test_{order.id}",
        "reason": "fraudulent",
        "status": "lost",
    }


async def test_a_lost_dispute_issues_one_credit_note_for_the_disputed_amount(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        order = await paid_order(uow.session)
    for _ in range(2):  # Stripe delivers the close twice
        async with unit_of_work(sessions) as uow:
            await close_dispute(uow, dispute=lost_dispute(order, 1190), actor=STRIPE)

    async with sessions() as session:
        invoice, credit = sorted(await invoices_of(session, order.id), key=lambda row: row.id)
    assert credit.kind == InvoiceKind.CREDIT_NOTE
    assert (credit.dispute_id, credit.refund_id, credit.corrects_invoice_id) == ("dp_lost_1", None, invoice.id)
    assert (credit.net, credit.tax, credit.gross) == (Decimal("-10.00"), Decimal("-1.90"), Decimal("-11.90"))
    await store_pdf(sessions, credit.id)
    async with sessions() as session:
        pdf = await session.scalar(sa.select(Invoice.pdf).where(Invoice.id == credit.id))
    assert pdf is not None
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    assert "Ihre Bank hat Ihnen den Betrag bereits zurückgebucht (Rückbelastung)." in text
    assert "erstattet" not in text


async def test_a_lost_dispute_credits_at_most_what_earlier_refunds_left_on_the_invoice(session: AsyncSession):
    order = await paid_order(session)
    await refunded(session, order, "2.98", key="first", line_id=order.lines[0].id)

    await close_dispute(UnitOfWork(session), dispute=lost_dispute(order, 1190), actor=STRIPE)
    await close_dispute(UnitOfWork(session), dispute=lost_dispute(order, 500, "dp_lost_2"), actor=STRIPE)

    rows = await invoices_of(session, order.id)
    credits = sorted((row for row in rows if row.kind == InvoiceKind.CREDIT_NOTE), key=lambda row: row.id)
    assert [row.gross for row in credits] == [Decimal("-2.98"), Decimal("-8.92")]
    assert sum(row.gross for row in rows) == 0
    notes = await session.scalars(sa.select(OrderEvent.note).where(OrderEvent.order_id == order.id))
    assert "no credit note for dispute dp_lost_2: nothing left" in notes.all()


async def test_a_won_dispute_issues_no_credit_note(session: AsyncSession):
    order = await paid_order(session)

    await close_dispute(UnitOfWork(session), dispute=lost_dispute(order, 1190) | {"status": "won"}, actor=STRIPE)

    assert [row.kind for row in await invoices_of(session, order.id)] == [InvoiceKind.INVOICE]
