"""Credit notes: a succeeded refund corrects the order's invoice by a document of its own (§14, §17 UStG).

An issued invoice is never changed: the credit note has its own number from the ``GS`` series, names the
invoice it corrects (number and date, printed on it) and reverses the refunded gross split back into net and
VAT at the invoice's rate, so both amounts go negative by exactly what was given back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.actors import Actor
from app.company.models import CompanySettings
from app.company.services import SINGLETON_ID
from app.invoicing import snapshots
from app.invoicing.commands import invoice_of_order, next_number
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.numbering import RENDER_LOCK_PREFIX, RENDER_QUEUE, RENDER_TASK
from app.invoicing.tax import split_gross
from app.orders.lifecycle import record_event
from app.orders.models import EventKind, Order, OrderLine
from app.payments.models import Refund
from app.uow import UnitOfWork


async def issue_credit_note(
    uow: UnitOfWork, order: Order, refund: Refund, line: OrderLine | None, actor: Actor
) -> Invoice | None:
    """The credit note of a succeeded refund of an order this unit of work has locked; once per refund.

    An order paid before its invoice could be issued (no seller data then) has nothing to correct: the timeline
    says so and finance settles it by hand.
    """
    existing: Invoice | None = await uow.session.scalar(sa.select(Invoice).where(Invoice.refund_id == refund.id))
    if existing is not None:
        return existing
    original = await invoice_of_order(uow, order.id)
    if original is None:
        record_event(uow, order, EventKind.NOTE, actor, note=f"no credit note for refund {refund.id}: no invoice")
        return None
    company = await uow.session.get(CompanySettings, SINGLETON_ID)
    credit = await _new_credit_note(uow, original, refund, line, company)
    record_event(
        uow,
        order,
        EventKind.NOTE,
        actor,
        line=line,
        note=f"credit note {credit.number} issued",
        data={"invoice": credit.id},
    )
    uow.audit(
        actor,
        "issue-credit-note",
        "invoice",
        credit.id,
        details={"number": credit.number, "corrects": original.number, "refund": refund.id},
    )
    await uow.defer(
        RENDER_TASK, {"invoice_id": credit.id}, queue=RENDER_QUEUE, queueing_lock=f"{RENDER_LOCK_PREFIX}{credit.id}"
    )
    return credit


async def _new_credit_note(
    uow: UnitOfWork, original: Invoice, refund: Refund, line: OrderLine | None, company: CompanySettings | None
) -> Invoice:
    issued_at = uow.now()
    rate = Decimal(original.tax_rates[0]["rate"])
    amounts = split_gross(refund.amount, rate)
    net, tax, gross = -amounts.net, -amounts.tax, -amounts.gross
    credit = Invoice(
        number=await next_number(uow, InvoiceKind.CREDIT_NOTE, snapshots.berlin_day(issued_at).year),
        kind=InvoiceKind.CREDIT_NOTE,
        order_id=original.order_id,
        customer_id=original.customer_id,
        refund_id=refund.id,
        corrects_invoice_id=original.id,
        issued_at=issued_at,
        service_from=original.service_from,
        service_to=original.service_to,
        locale=original.locale,
        seller=snapshots.seller_snapshot(company) if company is not None else original.seller,
        buyer=original.buyer,
        lines=[_credit_line(original, refund, line, net, rate)],
        tax_rates=snapshots.tax_rate_totals(rate, net, tax, gross),
        currency=refund.currency,
        net=net,
        tax=tax,
        gross=gross,
        tax_treatment=original.tax_treatment,
        legal_note=original.legal_note,
        legal_note_translation=original.legal_note_translation,
        payment={"method": "refund", "paid_at": issued_at.isoformat(), "reference": refund.stripe_refund_id},
    )
    uow.session.add(credit)
    await uow.flush()
    return credit


def _credit_line(
    original: Invoice, refund: Refund, line: OrderLine | None, net: Decimal, rate: Decimal
) -> dict[str, Any]:
    """One line: what is credited (the order line's service, or the invoice as a whole) and, in the small second
    line where an invoice shows the ordered link, why."""
    corrected = next((row for row in original.lines if line is not None and row["position"] == line.position), None)
    return {
        "position": 1,
        "description": corrected["description"] if corrected else original.number,
        "link": refund.reason,
        "quantity": None,
        "unit_price_per_1000": None,
        "net": str(net),
        "tax_rate": str(rate),
    }
