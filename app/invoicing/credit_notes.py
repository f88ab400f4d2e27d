"""Credit notes: a succeeded refund, a lost dispute or finance's correction reduces the order's invoice by a
document of its own (§14, §17 UStG).

An issued invoice is never changed: the credit note has its own number from the ``GS`` series, names the
invoice it corrects (number and date, printed on it) and reverses the credited gross split back into net and
VAT at the invoice's rate, so both amounts go negative by exactly what was credited. Together the credit notes
of an invoice never credit more than its gross; one that credits all of what is left cancels it (Storno).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.company.models import CompanySettings
from app.company.services import SINGLETON_ID
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_, Message
from app.invoicing import snapshots
from app.invoicing.commands import invoice_of_order, next_number
from app.invoicing.models import CORRECTION, Invoice, InvoiceKind
from app.invoicing.numbering import RENDER_LOCK_PREFIX, RENDER_QUEUE, RENDER_TASK
from app.invoicing.tax import split_gross
from app.orders.lifecycle import lock_orders, record_event
from app.orders.models import EventKind, Order, OrderLine
from app.payments.models import Refund
from app.uow import UnitOfWork

CENT = Decimal("0.01")
MAX_REASON_LENGTH = 300  # printed on the credit note, under its line


@dataclass(frozen=True)
class Correction:
    """Why money went back, and how much (gross, positive): a refund of ours, or a dispute the card holder's bank
    decided against us (the money left through the bank; the sale is corrected all the same, §17 UStG)."""

    amount: Decimal
    currency: str
    reason: str | None  # printed where an invoice line shows the ordered link
    method: str
    reference: str | None  # Stripe's refund or dispute id
    refund_id: int | None = None
    dispute_id: str | None = None


async def issue_credit_note(
    uow: UnitOfWork, order: Order, refund: Refund, line: OrderLine | None, actor: Actor
) -> Invoice | None:
    """The credit note of a succeeded refund of an order this unit of work has locked; once per refund. It credits
    the refunded amount, at most what the invoice still holds after earlier credit notes (finance may have
    credited part of it by hand before the money went back).

    An order paid before its invoice could be issued (no seller data then) has nothing to correct: the timeline
    says so and finance settles it by hand.
    """
    existing: Invoice | None = await uow.session.scalar(sa.select(Invoice).where(Invoice.refund_id == refund.id))
    if existing is not None:
        return existing
    original = await invoice_of_order(uow, order.id)
    if original is None:
        missing = Message(N_("no credit note for refund %(refund)s: no invoice"), {"refund": refund.id})
        record_event(uow, order, EventKind.NOTE, actor, note=missing)
        return None
    amount = min(refund.amount, await left_to_credit(uow.session, original))
    if amount <= 0:
        nothing_left = Message(N_("no credit note for refund %(refund)s: nothing left"), {"refund": refund.id})
        record_event(uow, order, EventKind.NOTE, actor, note=nothing_left)
        return None
    correction = Correction(
        amount, refund.currency, refund.reason, "refund", refund.stripe_refund_id, refund_id=refund.id
    )
    return await _issue(uow, order, original, correction, line, actor)


async def issue_dispute_credit_note(
    uow: UnitOfWork, order: Order, *, dispute_id: str, amount: Decimal, currency: str, reason: str, actor: Actor
) -> Invoice | None:
    """The credit note of a lost dispute of an order this unit of work has locked; once per dispute. It credits
    the disputed amount, at most what the invoice still holds after earlier credit notes."""
    existing: Invoice | None = await uow.session.scalar(sa.select(Invoice).where(Invoice.dispute_id == dispute_id))
    if existing is not None:
        return existing
    original = await invoice_of_order(uow, order.id)
    if original is None:
        missing = Message(N_("no credit note for dispute %(dispute)s: no invoice"), {"dispute": dispute_id})
        record_event(uow, order, EventKind.NOTE, actor, note=missing)
        return None
    remaining = await left_to_credit(uow.session, original)
    correction = Correction(min(amount, remaining), currency, reason, "dispute", dispute_id, dispute_id=dispute_id)
    if correction.amount <= 0:
        nothing_left = Message(N_("no credit note for dispute %(dispute)s: nothing left"), {"dispute": dispute_id})
        record_event(uow, order, EventKind.NOTE, actor, note=nothing_left)
        return None
    return await _issue(uow, order, original, correction, None, actor)


async def issue_manual_credit_note(
    uow: UnitOfWork, *, invoice_id: int, amount: Decimal, reason: str, actor: Actor
) -> Invoice:
    """Finance corrects an invoice by ``amount`` (gross, in the invoice's currency) without moving money: a price
    reduction agreed with the client, or the cancellation of a wrong invoice by crediting all of it.

    Locks the invoice's order (as refunds and disputes do before they credit it), so two corrections of one
    invoice queue and the second sees what the first credited.
    """
    reason = reason.strip()
    problems: dict[str, str | Message] = {}
    if not reason:
        problems["reason"] = N_("required")
    elif len(reason) > MAX_REASON_LENGTH:
        problems["reason"] = Message(N_("at most %(max)s characters"), {"max": MAX_REASON_LENGTH})
    if not amount.is_finite() or amount <= 0:
        problems["amount"] = N_("must be more than zero")
    elif amount != amount.quantize(CENT):
        problems["amount"] = Message(N_("at most %(places)s decimal places"), {"places": 2})
    if problems:
        raise ValidationFailed(problems)
    order_id = await uow.session.scalar(sa.select(Invoice.order_id).where(Invoice.id == invoice_id))
    if order_id is None:
        raise NotFound(N_("Invoice %(id)s not found"), id=invoice_id)
    (order,) = await lock_orders(uow, [order_id])
    original = await uow.session.scalar(
        sa.select(Invoice).where(Invoice.id == invoice_id).with_for_update().execution_options(populate_existing=True)
    )
    assert original is not None  # an issued invoice is never deleted (trigger)
    refuse_credit_note(original)
    left = await left_to_credit(uow.session, original)
    if left <= 0:
        raise Conflict(N_("Invoice %(number)s is fully credited already."), number=original.number)
    if amount > left:
        raise ValidationFailed(
            {
                "amount": Message(
                    N_("at most %(left)s %(currency)s is left to credit on invoice %(number)s"),
                    {"left": left, "currency": original.currency, "number": original.number},
                )
            }
        )
    correction = Correction(amount, original.currency, reason, CORRECTION, None)
    return await _issue(uow, order, original, correction, None, actor)


def refuse_credit_note(invoice: Invoice) -> None:
    """Only invoices are corrected: a credit note is corrected through the invoice it credits."""
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        raise Conflict(
            N_("%(number)s is a credit note: correct the invoice it credits instead."), number=invoice.number
        )


async def left_to_credit(session: AsyncSession, invoice: Invoice) -> Decimal:
    """The invoice's gross less what its credit notes credited so far (their gross is negative)."""
    credited = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Invoice.gross), 0)).where(
            Invoice.order_id == invoice.order_id, Invoice.corrects_invoice_id == invoice.id
        )
    )
    return invoice.gross + Decimal(credited or 0)


async def _issue(
    uow: UnitOfWork,
    order: Order,
    original: Invoice,
    correction: Correction,
    line: OrderLine | None,
    actor: Actor,
) -> Invoice:
    """The credit note correcting ``original``, the order's invoice (read once by the caller)."""
    company = await uow.session.get(CompanySettings, SINGLETON_ID)
    credit = await _new_credit_note(uow, original, correction, line, company)
    record_event(
        uow,
        order,
        EventKind.NOTE,
        actor,
        line=line,
        note=Message(N_("credit note %(number)s issued"), {"number": credit.number}),
        data={"invoice": credit.id},
    )
    uow.audit(
        actor,
        "issue-credit-note",
        "invoice",
        credit.id,
        details={
            "number": credit.number,
            "corrects": original.number,
            "refund": correction.refund_id,
            "dispute": correction.dispute_id,
            "reason": correction.reason if correction.method == CORRECTION else None,
        },
    )
    await uow.defer(
        RENDER_TASK, {"invoice_id": credit.id}, queue=RENDER_QUEUE, queueing_lock=f"{RENDER_LOCK_PREFIX}{credit.id}"
    )
    return credit


async def _new_credit_note(
    uow: UnitOfWork, original: Invoice, correction: Correction, line: OrderLine | None, company: CompanySettings | None
) -> Invoice:
    issued_at = uow.now()
    rate = Decimal(original.tax_rates[0]["rate"])
    amounts = split_gross(correction.amount, rate)
    net, tax, gross = -amounts.net, -amounts.tax, -amounts.gross
    credit = Invoice(
        number=await next_number(uow, InvoiceKind.CREDIT_NOTE, snapshots.berlin_day(issued_at).year),
        kind=InvoiceKind.CREDIT_NOTE,
        order_id=original.order_id,
        customer_id=original.customer_id,
        refund_id=correction.refund_id,
        dispute_id=correction.dispute_id,
        corrects_invoice_id=original.id,
        issued_at=issued_at,
        service_from=original.service_from,
        service_to=original.service_to,
        locale=original.locale,
        seller=snapshots.seller_snapshot(company) if company is not None else original.seller,
        buyer=original.buyer,
        lines=[_credit_line(original, correction.reason, line, net, rate)],
        tax_rates=snapshots.tax_rate_totals(rate, net, tax, gross),
        currency=correction.currency,
        net=net,
        tax=tax,
        gross=gross,
        tax_treatment=original.tax_treatment,
        legal_note=original.legal_note,
        legal_note_translation=original.legal_note_translation,
        payment={"method": correction.method, "paid_at": issued_at.isoformat(), "reference": correction.reference},
    )
    uow.session.add(credit)
    await uow.flush()
    return credit


def _credit_line(
    original: Invoice, reason: str | None, line: OrderLine | None, net: Decimal, rate: Decimal
) -> dict[str, Any]:
    """One line: what is credited (the order line's service, or the invoice as a whole) and, in the small second
    line where an invoice shows the ordered link, why."""
    corrected = next((row for row in original.lines if line is not None and row["position"] == line.position), None)
    return {
        "position": 1,
        "description": corrected["description"] if corrected else original.number,
        "link": reason,
        "quantity": None,
        "unit_price_per_1000": None,
        "net": str(net),
        "tax_rate": str(rate),
    }
