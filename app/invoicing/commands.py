"""Invoicing commands: issue the invoice of a paid order, in the transaction that records the payment.

The number comes from ``invoice_sequence``: one statement raises the series' row for the year and returns the
new number, holding the row lock until the transaction ends. Concurrent issues queue on that row, so numbers
are consecutive in commit order; a rolled-back issue rolls its increment back too and burns no number.
An invoice's number is taken by the last statement before commit (``app.invoicing.numbering``), which also
writes the invoice and what names it, so the lock is held as briefly as possible.
The PDF is rendered after commit by a job (``app.invoicing.jobs``), the one write the invoice row accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog

from app.actors import Actor
from app.company.models import CompanySettings
from app.company.services import SINGLETON_ID
from app.customers.models import Customer
from app.errors import Conflict
from app.i18n import N_
from app.invoicing import snapshots
from app.invoicing.models import SERIES, Invoice, InvoiceKind
from app.invoicing.numbering import ISSUE_INVOICE, ISSUE_INVOICE_ID, issue_params
from app.orders.lifecycle import record_event
from app.orders.models import EventKind, Order
from app.payments.models import Payment, PaymentRecordStatus
from app.uow import UnitOfWork

log = structlog.get_logger(__name__)

_NEXT_NUMBER = sa.text(
    "INSERT INTO invoice_sequence (series, year, last_number) VALUES (:series, :year, 1)"
    " ON CONFLICT (series, year) DO UPDATE SET last_number = invoice_sequence.last_number + 1"
    " RETURNING last_number"
)


async def next_number(uow: UnitOfWork, kind: InvoiceKind, year: int) -> str:
    """The next number of the kind's series for ``year``, e.g. ``RE-2026-000123``; its row stays locked."""
    series = SERIES[kind]
    number = await uow.session.scalar(_NEXT_NUMBER, {"series": series, "year": year})
    return f"{series}-{year}-{number:06d}"


def current_invoice_id(order_id: Any) -> Any:
    """The id of the order's invoice in force: its latest (a later one replaces a cancelled one), as a subquery."""
    return (
        sa.select(sa.func.max(Invoice.id))
        .where(Invoice.order_id == order_id, Invoice.kind == InvoiceKind.INVOICE)
        .scalar_subquery()
    )


async def invoice_of_order(uow: UnitOfWork, order_id: int) -> Invoice | None:
    """The order's invoice in force: what refunds and disputes correct."""
    invoice: Invoice | None = await uow.session.scalar(
        sa.select(Invoice).where(Invoice.id == current_invoice_id(order_id))
    )
    return invoice


async def issue_invoice(uow: UnitOfWork, order: Order, actor: Actor) -> Invoice | None:
    """The invoice of a paid order that this unit of work has locked; the existing one if it was issued already.

    Without the company's seller data no legal invoice can be made: the order's timeline says so (and the log
    warns); the payment itself is never refused for it.
    """
    existing, company, customer, payment = await _issue_facts(uow, order)
    if existing is not None:
        return existing
    if company is None:
        record_event(
            uow, order, EventKind.NOTE, actor, note=N_("no invoice issued: the company's seller data is missing")
        )
        log.warning("invoice not issued: no company settings", order=order.number)
        return None
    return await _numbered(uow, _issue(uow, order, company, customer, payment, actor, replaces=None))


async def issue_replacement_invoice(uow: UnitOfWork, order: Order, replaced: Invoice, actor: Actor) -> Invoice:
    """The invoice issued in place of ``replaced``, the order's invoice in force, which the caller has just
    cancelled by a full credit note in this unit of work (the order locked): the same sale, with the buyer's
    current name and address (the tax facts stay the order's, so the amounts are the same)."""
    current, company, customer, payment = await _issue_facts(uow, order)
    if current is None or current.id != replaced.id:
        raise Conflict(N_("Invoice %(number)s is no longer the order's invoice."), number=replaced.number)
    if company is None:
        raise Conflict(N_("No invoice can be issued: the company's seller data is missing."))
    if customer.erased_at is not None:
        raise Conflict(
            N_("Invoice %(number)s belongs to an erased client: there is no address."), number=replaced.number
        )
    return await _numbered(uow, _issue(uow, order, company, customer, payment, actor, replaces=replaced))


async def _numbered(uow: UnitOfWork, params: dict[str, Any]) -> Invoice:
    """The invoice :func:`_issue`'s parameters describe, numbered and written, as the ORM loads it."""
    invoice: Invoice = (await uow.session.scalars(ISSUE_INVOICE, params)).one()
    return invoice


def _issue(
    uow: UnitOfWork,
    order: Order,
    company: CompanySettings,
    customer: Customer,
    payment: Payment | None,
    actor: Actor,
    *,
    replaces: Invoice | None,
) -> dict[str, Any]:
    """The numbering statement's parameters for the order's invoice (``app.invoicing.numbering``)."""
    issued_at = uow.now()
    values = _invoice_values(order, company, customer, payment, issued_at)
    values["replaces_invoice_id"] = replaces.id if replaces is not None else None
    # The rows that name the invoice, made as every command makes them; the numbering statement writes them.
    event = record_event(uow, order, EventKind.NOTE, actor)
    details = {"order": order.number, "replaces": replaces.number if replaces is not None else None}
    audit = uow.audit(actor, "issue-invoice", "invoice", None, details=details)
    uow.session.expunge(event)
    uow.session.expunge(audit)
    return issue_params(InvoiceKind.INVOICE, snapshots.berlin_day(issued_at).year, values, event, audit)


def _settling_payment(order_id: Any) -> Any:
    """The id of the order's latest succeeded payment, as a subquery."""
    return (
        sa.select(Payment.id)
        .where(Payment.order_id == order_id, Payment.status == PaymentRecordStatus.SUCCEEDED)
        .order_by(Payment.id.desc())
        .limit(1)
        .scalar_subquery()
    )


# Built once; the invoice comes as its id only: loading a whole (absent) invoice on every payment cost more than
# reading the rare existing one again.
_ISSUE_FACTS = (
    sa.select(Invoice.id, CompanySettings, Customer, Payment)
    .select_from(Customer)
    .outerjoin(Invoice, Invoice.id == current_invoice_id(sa.bindparam("order_id")))
    .outerjoin(CompanySettings, CompanySettings.id == SINGLETON_ID)
    .outerjoin(Payment, Payment.id == _settling_payment(sa.bindparam("order_id")))
    .where(Customer.id == sa.bindparam("customer_id"))
)


async def _issue_facts(
    uow: UnitOfWork, order: Order
) -> tuple[Invoice | None, CompanySettings | None, Customer, Payment | None]:
    """In one query: the order's invoice in force if it has one, the seller, the buyer and the payment that settled
    it."""
    params = {"order_id": order.id, "customer_id": order.customer_id}
    invoice_id, company, customer, payment = (await uow.session.execute(_ISSUE_FACTS, params)).one()
    existing = await uow.session.get(Invoice, invoice_id) if invoice_id is not None else None
    return existing, company, customer, payment


@dataclass(frozen=True)
class PaymentFacts:
    """What the invoice of an order about to be paid is made of besides the order, read with the order's lock
    (:func:`with_issue_facts`) instead of by a query of their own: the invoice in force (its id), the seller, the
    buyer, and the latest payment that had succeeded before (its id)."""

    invoice_id: int | None
    company: CompanySettings | None
    customer: Customer
    earlier_payment_id: int | None


def with_issue_facts(statement: sa.Select[Any]) -> sa.Select[Any]:
    """An order's lock statement (``app.orders.lifecycle.lock_orders_with``) reading :class:`PaymentFacts` too."""
    return (
        statement.add_columns(current_invoice_id(Order.id), CompanySettings, Customer, _settling_payment(Order.id))
        .outerjoin(CompanySettings, CompanySettings.id == SINGLETON_ID)
        .outerjoin(Customer, Customer.id == Order.customer_id)
    )


async def issue_paid_invoice(
    uow: UnitOfWork, order: Order, actor: Actor, facts: PaymentFacts, payment: Payment
) -> None:
    """:func:`issue_invoice` for an order that ``payment`` has just paid, from the facts read with its lock: the
    same invoice, one query fewer. The payment's path reads nothing of it, so it is not loaded (no object built,
    no JSON columns decoded)."""
    if facts.invoice_id is not None:
        return
    if facts.company is None:
        await issue_invoice(uow, order, actor)  # says why there is none, as it always does
        return
    settling = payment
    if facts.earlier_payment_id is not None and facts.earlier_payment_id > payment.id:
        settling = await uow.session.get_one(Payment, facts.earlier_payment_id)
    params = _issue(uow, order, facts.company, facts.customer, settling, actor, replaces=None)
    await uow.session.execute(ISSUE_INVOICE_ID, params)


def _invoice_values(
    order: Order, company: CompanySettings, customer: Customer, payment: Payment | None, issued_at: datetime
) -> dict[str, Any]:
    paid_at = order.paid_at or issued_at
    service_day = snapshots.berlin_day(paid_at)
    note = snapshots.legal_note(order.tax_treatment, order.tax_rate, order.buyer_country)
    locale = customer.locale if customer.locale in ("de", "en") else "de"
    note_de, note_translation = snapshots.legal_note_texts(note, locale)
    return {
        "kind": InvoiceKind.INVOICE,
        "order_id": order.id,
        "customer_id": customer.id,
        "issued_at": issued_at,
        "service_from": service_day,
        "service_to": service_day,
        "locale": locale,
        "seller": snapshots.seller_snapshot(company),
        "buyer": snapshots.buyer_snapshot(customer, order),
        "lines": snapshots.line_snapshots(order),
        "tax_rates": snapshots.tax_rate_totals(order.tax_rate, order.net, order.tax, order.gross),
        "currency": order.currency,
        "net": order.net,
        "tax": order.tax,
        "gross": order.gross,
        "tax_treatment": order.tax_treatment,
        "legal_note": note_de,
        "legal_note_translation": note_translation,
        "payment": snapshots.payment_snapshot(payment, paid_at),
    }
