"""Staff send a client their invoice or credit note again (it got lost, the accountant needs it): a mail with
the stored PDF, to the address the client has now, in the document's language."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from app.actors import Actor
from app.customers.models import Customer
from app.errors import Conflict, NotFound
from app.i18n import N_
from app.invoicing.models import Invoice
from app.notifications.messages import send_invoice_copy
from app.uow import UnitOfWork


async def resend_invoices(uow: UnitOfWork, invoice_ids: Sequence[int], actor: Actor) -> list[str]:
    """One mail per selected document, with its PDF attached when sent; returns the numbers."""
    rows = (
        await uow.session.execute(
            sa.select(Invoice, Customer)
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(Invoice.id.in_(invoice_ids))
            .order_by(Invoice.id)
        )
    ).all()
    if len(rows) != len(set(invoice_ids)):
        raise NotFound(N_("Some of the selected invoices no longer exist."))
    for invoice, customer in rows:
        if customer.erased_at is not None:
            raise Conflict(
                N_("Invoice %(number)s belongs to an erased client: there is no address."), number=invoice.number
            )
    for invoice, customer in rows:
        await send_invoice_copy(uow, invoice, customer)
        uow.audit(actor, "resend-invoice", "invoice", invoice.id, details={"number": invoice.number})
    await uow.flush()
    return [invoice.number for invoice, _customer in rows]
