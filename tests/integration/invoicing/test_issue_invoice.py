"""Invoices issued with the payment: once per order, gapless numbers under concurrency, nothing on rollback."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.models import AuditLog
from app.db.engine import session_factory
from app.i18n import translations
from app.invoicing.commands import issue_invoice
from app.invoicing.models import Invoice, InvoiceKind, InvoiceSequence
from app.invoicing.numbering import RENDER_LOCK_PREFIX, RENDER_TASK
from app.invoicing.snapshots import berlin_day
from app.invoicing.tax import TaxTreatment
from app.orders.event_notes import render_note
from app.orders.lifecycle import lock_orders
from app.orders.models import EventKind, OrderEvent
from app.payments import commands
from app.payments.models import PaymentMethod
from app.uow import UnitOfWork, unit_of_work, utc_now
from tests import factories
from tests.integration.invoicing.helpers import STRIPE, invoices_of, paid_checkout, pay


async def test_paying_an_order_issues_one_invoice_even_when_the_payment_path_runs_twice(session: AsyncSession):
    await factories.company_settings(session)
    order = (await factories.place_order(session)).order

    await pay(UnitOfWork(session), order)
    await pay(UnitOfWork(session), order)
    (locked,) = await lock_orders(UnitOfWork(session), [order.id])
    again = await issue_invoice(UnitOfWork(session), locked, STRIPE)

    (invoice,) = await invoices_of(session, order.id)
    assert again is not None
    assert again.id == invoice.id
    assert invoice.kind == InvoiceKind.INVOICE
    assert invoice.number.endswith("-000001")
    assert await session.scalar(sa.select(InvoiceSequence.last_number)) == 1
    jobs = await session.scalar(
        sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task"), {"task": RENDER_TASK}
    )
    assert jobs == 1


async def test_the_invoice_keeps_seller_buyer_lines_and_amounts_as_they_were_at_payment(session: AsyncSession):
    company = await factories.company_settings(session)
    buyer = await factories.customer(
        session, company="Bäckerei Schäfer OHG", address_line1="Grüner Weg 7", postal_code="50667", city="Köln"
    )
    order = (await factories.place_order(session, buyer=buyer)).order

    await pay(UnitOfWork(session), order)

    (invoice,) = await invoices_of(session, order.id)
    assert invoice.number.startswith("RE-20")
    assert invoice.seller["legal_name"] == company.legal_name
    assert invoice.seller["vat_id"] == company.vat_id
    assert invoice.buyer["company"] == "Bäckerei Schäfer OHG"
    assert invoice.buyer["city"] == "Köln"
    assert [line["quantity"] for line in invoice.lines] == [line.quantity for line in order.lines]
    assert (invoice.net, invoice.tax, invoice.gross) == (order.net, order.tax, order.gross)
    assert invoice.tax_rates == [
        {"rate": str(order.tax_rate), "net": str(order.net), "tax": str(order.tax), "gross": str(order.gross)}
    ]
    assert invoice.tax_treatment == TaxTreatment.DOMESTIC
    assert invoice.legal_note is None
    assert invoice.payment["method"] == "stripe"
    assert invoice.payment["reference"] == f"pi_test_{order.id}"
    assert invoice.pdf_sha256 is None


async def test_the_invoice_names_the_orders_latest_succeeded_payment_even_one_not_applied(session: AsyncSession):
    await factories.company_settings(session)
    order = (await factories.place_order(session)).order
    first = paid_checkout(order)
    later = replace(first, id=f"cs_test_{order.id}_b", payment_intent_id="pi_test_later", amount_total=Decimal("0.01"))
    for checkout in (first, later):
        await commands.record_checkout(
            UnitOfWork(session), order_id=order.id, session=checkout, actor=STRIPE, method=PaymentMethod.STRIPE
        )
    await commands.fulfill_checkout(UnitOfWork(session), session=later, actor=STRIPE)  # wrong amount: not applied

    outcome = await commands.fulfill_checkout(UnitOfWork(session), session=first, actor=STRIPE)

    assert outcome is not None and outcome.newly_paid
    (invoice,) = await invoices_of(session, order.id)
    assert invoice.payment["reference"] == "pi_test_later"


async def test_without_seller_data_the_payment_goes_through_and_the_timeline_says_no_invoice(session: AsyncSession):
    order = (await factories.place_order(session)).order

    await pay(UnitOfWork(session), order)

    assert await invoices_of(session, order.id) == []
    notes = await session.scalars(sa.select(OrderEvent.note).where(OrderEvent.order_id == order.id))
    assert "no invoice issued: the company's seller data is missing" in list(notes)


async def test_a_rolled_back_payment_issues_nothing_and_burns_no_number(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        await factories.company_settings(uow.session)
        first = (await factories.place_order(uow.session)).order
        second = (await factories.place_order(uow.session)).order

    async def pay_then_fail() -> None:
        async with unit_of_work(sessions) as uow:
            await pay(uow, first)
            raise RuntimeError("the transaction fails after the invoice was issued")

    with pytest.raises(RuntimeError):
        await pay_then_fail()
    async with unit_of_work(sessions) as uow:
        await pay(uow, second)

    async with sessions() as session:
        assert await invoices_of(session, first.id) == []
        (invoice,) = await invoices_of(session, second.id)
    assert invoice.number.endswith("-000001")


async def test_twenty_concurrent_payments_of_different_orders_get_gapless_consecutive_numbers(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        await factories.company_settings(uow.session)
        orders = [(await factories.place_order(uow.session)).order for _ in range(20)]

    async def pay_alone(order_index: int) -> None:
        async with unit_of_work(sessions) as uow:
            await pay(uow, orders[order_index])

    await asyncio.gather(*(pay_alone(index) for index in range(20)))

    async with sessions() as session:
        numbers = list(await session.scalars(sa.select(Invoice.number).order_by(Invoice.number)))
        per_order = await session.scalar(sa.select(sa.func.count(sa.distinct(Invoice.order_id))))
    year = numbers[0].split("-")[1]
    assert numbers == [f"RE-{year}-{n:06d}" for n in range(1, 21)]
    assert per_order == 20


async def test_every_paid_order_and_its_invoice_carry_the_same_totals(session: AsyncSession):
    await factories.company_settings(session)
    service = await factories.service(session, price="2.4900")
    order = (
        await factories.place_order(
            session,
            items=[(service, 1234, "https://www.instagram.com/p/a/"), (service, 777, "https://www.instagram.com/p/b/")],
        )
    ).order

    await pay(UnitOfWork(session), order)

    (invoice,) = await invoices_of(session, order.id)
    assert sum(Decimal(line["net"]) for line in invoice.lines) == invoice.net
    assert invoice.net + invoice.tax == invoice.gross
    assert (
        await session.scalar(
            sa.select(sa.func.count())
            .select_from(OrderEvent)
            .where(
                OrderEvent.order_id == order.id, OrderEvent.kind == EventKind.NOTE, OrderEvent.note.like("invoice RE-%")
            )
        )
        == 1
    )


async def test_the_timeline_the_audit_log_and_the_pdf_job_name_the_issued_invoice(session: AsyncSession):
    await factories.company_settings(session)
    order = (await factories.place_order(session)).order

    await pay(UnitOfWork(session), order)

    (invoice,) = await invoices_of(session, order.id)
    note = await session.scalar(
        sa.select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.note.like("invoice %"))
    )
    assert note is not None
    assert (note.kind, note.note) == (EventKind.NOTE, f"invoice {invoice.number} issued")
    assert note.data == {
        "invoice": invoice.id,
        "note_text": {"id": "invoice %(number)s issued", "params": {"number": invoice.number}},
    }
    german = translations("de").gettext
    assert render_note(note.note, note.data, german, "de") == f"Rechnung {invoice.number} erstellt"
    assert (note.actor_kind, note.actor_label) == (STRIPE.kind, STRIPE.label)
    audit = await session.scalar(sa.select(AuditLog).where(AuditLog.action == "issue-invoice"))
    assert audit is not None
    assert (audit.entity_type, audit.entity_id) == ("invoice", str(invoice.id))
    assert audit.diff == {"number": invoice.number, "order": order.number}
    job = (
        await session.execute(
            sa.text("SELECT queue_name, queueing_lock, args FROM procrastinate_jobs WHERE task_name = :task"),
            {"task": RENDER_TASK},
        )
    ).one()
    assert tuple(job) == ("invoicing", f"{RENDER_LOCK_PREFIX}{invoice.id}", {"invoice_id": invoice.id})


async def test_the_millionth_invoice_of_a_year_gets_a_seventh_digit(session: AsyncSession):
    await factories.company_settings(session)
    order = (await factories.place_order(session)).order
    year = berlin_day(utc_now()).year
    session.add(InvoiceSequence(series="RE", year=year, last_number=999_999))
    await session.flush()

    await pay(UnitOfWork(session), order)

    (invoice,) = await invoices_of(session, order.id)
    assert invoice.number == f"RE-{year}-1000000"


async def test_the_invoice_number_is_taken_by_the_last_statement_before_commit(engine: AsyncEngine):
    """The series' row is locked from the number to commit: nothing else may run in between."""
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as uow:
        await factories.company_settings(uow.session)
        order = (await factories.place_order(uow.session)).order
    statements: list[str] = []

    def remember(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", remember)
    try:
        async with unit_of_work(sessions) as uow:
            await pay(uow, order)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", remember)

    numbering = [index for index, statement in enumerate(statements) if "invoice_sequence" in statement]
    assert numbering == [len(statements) - 1]
