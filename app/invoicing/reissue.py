"""Cancel and reissue: a wrong invoice (say, the buyer's address was wrong) is cancelled by a credit note over all
of it, and in the same transaction a new invoice for the same order is issued from the customer's current data.

Only an invoice nothing was credited on yet is replaced: refunds and corrections of it would otherwise have to be
carried over to the new one. The replacement names the invoice it replaces and becomes the order's invoice in
force, which later refunds and disputes correct.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.actors import Actor
from app.errors import Conflict, NotFound
from app.i18n import N_
from app.invoicing.commands import issue_replacement_invoice
from app.invoicing.credit_notes import issue_manual_credit_note, left_to_credit, refuse_credit_note
from app.invoicing.models import Invoice
from app.orders.lifecycle import lock_orders
from app.uow import UnitOfWork


async def cancel_and_reissue(uow: UnitOfWork, *, invoice_id: int, reason: str, actor: Actor) -> tuple[Invoice, Invoice]:
    """The cancelling credit note and the replacement invoice, in that order."""
    order_id = await uow.session.scalar(sa.select(Invoice.order_id).where(Invoice.id == invoice_id))
    if order_id is None:
        raise NotFound(N_("Invoice %(id)s not found"), id=invoice_id)
    (order,) = await lock_orders(uow, [order_id])
    invoice = await uow.session.get_one(Invoice, invoice_id)
    refuse_credit_note(invoice)
    if await left_to_credit(uow.session, invoice) != invoice.gross:
        raise Conflict(
            N_(
                "Invoice %(number)s has credit notes already: only an invoice nothing was credited on is replaced. "
                "Credit what is left instead."
            ),
            number=invoice.number,
        )
    cancellation = await issue_manual_credit_note(
        uow, invoice_id=invoice_id, amount=invoice.gross, reason=reason, actor=actor
    )
    replacement = await issue_replacement_invoice(uow, order, invoice, actor)
    return cancellation, replacement
