"""Correcting an invoice from its page in the back office: a credit note over an amount, or cancel and reissue
(a full credit note and a replacement from the customer's current data). No money moves; both call one domain
command. The invoice list shows how far each invoice is credited, derived from its credit notes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin.i18n import get_locale

from admin.actions import ActionContext, ActionField, business_action
from admin.base import link_to
from admin.i18n import admin_gettext, lazy
from app import i18n
from app.customers.models import Customer
from app.errors import DomainError, ValidationFailed
from app.i18n import N_
from app.invoicing import reissue
from app.invoicing.credit_notes import issue_manual_credit_note, left_to_credit
from app.invoicing.models import Invoice, InvoiceKind


def credit_state(record: Any, _attribute: Any) -> Markup | str:
    """How far an invoice's credit notes corrected it (derived: the invoice itself never changes) and which invoice
    it replaces; for a credit note, the invoice it corrects."""
    parts: list[Markup] = []
    for referenced_id, label in (
        (record.corrects_invoice_id, N_("corrects")),
        (record.replaces_invoice_id, N_("replaces")),
    ):
        if referenced_id is not None:
            shown = record.referenced_number or f"#{referenced_id}"
            parts.append(
                Markup("{} {}").format(admin_gettext(label), link_to(f"/admin/invoice/details/{referenced_id}", shown))
            )
    credited = -(record.credited or Decimal(0))
    if record.kind == InvoiceKind.INVOICE and credited >= record.gross:
        parts.append(
            Markup('<span class="badge bg-red-lt" data-state="fully-credited">{}</span>').format(
                admin_gettext(N_("fully credited (canceled)"))
            )
        )
    elif record.kind == InvoiceKind.INVOICE and credited > 0:
        amount = i18n.format_money(credited, record.currency, get_locale())
        parts.append(
            Markup('<span class="badge bg-orange-lt" data-state="partially-credited">{}</span>').format(
                admin_gettext(N_("partially credited: %(amount)s")) % {"amount": amount}
            )
        )
    return Markup(" ").join(parts) if parts else "–"


def with_credit_state(stmt: Any) -> Any:
    """``stmt`` loading what each invoice's credit notes credited, and the number of the invoice each corrects or
    replaces."""
    credit, referenced = sa.orm.aliased(Invoice), sa.orm.aliased(Invoice)
    credited = (
        sa.select(sa.func.coalesce(sa.func.sum(credit.gross), 0))
        .where(credit.order_id == Invoice.order_id, credit.corrects_invoice_id == Invoice.id)
        .scalar_subquery()
    )
    referenced_number = sa.select(referenced.number).where(
        referenced.id == sa.func.coalesce(Invoice.corrects_invoice_id, Invoice.replaces_invoice_id)
    )
    return stmt.options(
        sa.orm.with_expression(Invoice.credited, credited),
        sa.orm.with_expression(Invoice.referenced_number, referenced_number.scalar_subquery()),
    )


# The domain's refusal (``refuse_credit_note``), said on the confirmation page already.
NOT_A_CREDIT_NOTE = N_("%(number)s is a credit note: correct the invoice it credits instead.")


class InvoiceCorrectionsMixin:
    """The Invoices view's two corrections, offered on an invoice's page (``InvoiceAdmin`` hides them where they
    cannot apply)."""

    async def credit_preview(self, pks: list[int]) -> list[str]:
        locale = get_locale()
        shown = []
        async with self.session_maker(expire_on_commit=False) as session:  # type: ignore[attr-defined]
            for invoice in await session.scalars(sa.select(Invoice).where(Invoice.id.in_(pks)).order_by(Invoice.id)):
                if invoice.kind == InvoiceKind.CREDIT_NOTE:
                    shown.append(admin_gettext(NOT_A_CREDIT_NOTE) % {"number": invoice.number})
                    continue
                left = await left_to_credit(session, invoice)
                shown.append(
                    admin_gettext(N_("%(number)s: gross %(gross)s, left to credit %(left)s"))
                    % {
                        "number": invoice.number,
                        "gross": i18n.format_money(invoice.gross, invoice.currency, locale),
                        "left": i18n.format_money(left, invoice.currency, locale),
                    }
                )
        return shown

    @business_action(
        "issue-credit-note",
        lazy("Issue credit note"),
        add_in_list=False,
        danger=True,
        preview=credit_preview,
        description=lazy(
            "A credit note of its own number reduces the invoice by the amount (gross, in the invoice's "
            "currency); it names the invoice and prints the reason. No money moves: refunds are made on the order "
            "lines and issue their own credit notes. Crediting all that is left cancels the invoice. A credit "
            "note cannot be taken back."
        ),
        fields=[
            ActionField("amount", lazy("Amount (gross)"), kind="amount"),
            ActionField("reason", lazy("Reason (printed on the credit note)"), kind="textarea"),
        ],
    )
    async def issue_credit_note(self, ctx: ActionContext) -> str:
        if len(ctx.pks) != 1:
            raise DomainError(N_("Issue credit notes one at a time: choose one invoice."))
        try:
            amount = i18n.parse_number(ctx.values["amount"], get_locale())
        except i18n.NumberInputError as exc:
            raise ValidationFailed({"amount": exc.text}) from exc
        credit = await issue_manual_credit_note(
            ctx.uow, invoice_id=ctx.pks[0], amount=amount, reason=ctx.values["reason"], actor=ctx.actor
        )
        ctx.redirect_to = f"/admin/invoice/details/{credit.id}"
        return admin_gettext(N_("Credit note %(number)s issued for %(amount)s.")) % {
            "number": credit.number,
            "amount": i18n.format_money(-credit.gross, credit.currency, get_locale()),
        }

    async def reissue_preview(self, pks: list[int]) -> list[str]:
        locale = get_locale()
        shown = []
        async with self.session_maker(expire_on_commit=False) as session:  # type: ignore[attr-defined]
            rows = await session.execute(
                sa.select(Invoice, Customer)
                .join(Customer, Customer.id == Invoice.customer_id)
                .where(Invoice.id.in_(pks))
                .order_by(Invoice.id)
            )
            for invoice, customer in rows.tuples():
                if invoice.kind == InvoiceKind.CREDIT_NOTE:
                    shown.append(admin_gettext(NOT_A_CREDIT_NOTE) % {"number": invoice.number})
                    continue
                buyer = [customer.company, customer.name, customer.address_line1, customer.address_line2]
                buyer.append(" ".join(part for part in (customer.postal_code, customer.city) if part))
                shown.append(
                    admin_gettext(N_("%(number)s (%(gross)s) is cancelled; the new invoice is made out to: %(buyer)s"))
                    % {
                        "number": invoice.number,
                        "gross": i18n.format_money(invoice.gross, invoice.currency, locale),
                        "buyer": ", ".join(part for part in buyer if part),
                    }
                )
        return shown

    @business_action(
        "cancel-and-reissue",
        lazy("Cancel and reissue"),
        add_in_list=False,
        danger=True,
        preview=reissue_preview,
        description=lazy(
            "For a wrong invoice, e.g. a wrong buyer address (correct the customer first): a credit note over all "
            "of it cancels the invoice, and a new invoice for the same order, with the same amounts, is made out "
            "from the customer's current data. Refunds of the order then correct the new invoice. Only for an "
            "invoice nothing was credited on yet. No money moves; it cannot be taken back."
        ),
        fields=[ActionField("reason", lazy("Reason (printed on the credit note)"), kind="textarea")],
    )
    async def cancel_and_reissue(self, ctx: ActionContext) -> str:
        if len(ctx.pks) != 1:
            raise DomainError(N_("Issue credit notes one at a time: choose one invoice."))
        cancellation, replacement = await reissue.cancel_and_reissue(
            ctx.uow, invoice_id=ctx.pks[0], reason=ctx.values["reason"], actor=ctx.actor
        )
        ctx.redirect_to = f"/admin/invoice/details/{replacement.id}"
        return admin_gettext(N_("Credit note %(credit)s cancels the invoice; new invoice %(number)s issued.")) % {
            "credit": cancellation.number,
            "number": replacement.number,
        }
