"""The invoice's printed words in the buyer's language (German catalog: the wording German invoices use)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from babel import Locale

from app.i18n import N_, babel_locale, translations
from app.invoicing.models import InvoiceKind

TITLES = {InvoiceKind.INVOICE: N_("Invoice"), InvoiceKind.CREDIT_NOTE: N_("Credit note")}
NUMBER_LABELS = {InvoiceKind.INVOICE: N_("Invoice no."), InvoiceKind.CREDIT_NOTE: N_("Credit note no.")}
INTROS = {
    InvoiceKind.INVOICE: N_("Thank you for your order. We invoice you for the following services:"),
    InvoiceKind.CREDIT_NOTE: N_("We credit you the following amounts:"),
}
TOTALS = {InvoiceKind.INVOICE: N_("Invoice total"), InvoiceKind.CREDIT_NOTE: N_("Credit total")}
PAID_BY = {
    "stripe": N_("Paid by card on %(date)s. Nothing is left to pay."),
    None: N_("Paid on %(date)s. Nothing is left to pay."),
}


@dataclass(frozen=True)
class Labels:
    locale: str
    invoice_date: str
    customer_number: str
    service_date: str
    your_vat_id: str
    our_vat_id: str
    position: str
    description: str
    quantity: str
    unit_price: str
    vat: str
    net_amount: str
    total_net: str
    no_vat: str
    thanks: str
    refunded: str
    charged_back: str
    corrected_only: str
    managing_director: str
    vat_id: str
    tax_number: str

    def _(self, text: str) -> str:
        return translations(self.locale).gettext(text)

    def title(self, kind: InvoiceKind) -> str:
        return self._(TITLES[kind])

    def number_label(self, kind: InvoiceKind) -> str:
        return self._(NUMBER_LABELS[kind])

    def intro(self, kind: InvoiceKind) -> str:
        return self._(INTROS[kind])

    def total(self, kind: InvoiceKind) -> str:
        return self._(TOTALS[kind])

    def vat_at(self, rate: str) -> str:
        return self._(N_("plus %(rate)s VAT")) % {"rate": rate}

    def paid(self, method: str | None, day: str) -> str:
        return self._(PAID_BY.get(method, PAID_BY[None])) % {"date": day}

    def corrects(self, number: str, day: str) -> str:
        return self._(N_("Correction of invoice %(number)s of %(date)s")) % {"number": number, "date": day}

    def replaces(self, number: str, day: str) -> str:
        return self._(N_("Replaces invoice %(number)s of %(date)s")) % {"number": number, "date": day}

    def page(self, number: int, pages: int) -> str:
        return self._(N_("Page %(page)s of %(pages)s")) % {"page": number, "pages": pages}

    def country(self, code: str) -> str:
        return str(Locale.parse(babel_locale(self.locale)).territories.get(code, code))


@lru_cache(maxsize=4)
def labels_for(locale: str) -> Labels:
    _ = translations(locale).gettext
    return Labels(
        locale=locale,
        invoice_date=_(N_("Invoice date")),
        customer_number=_(N_("Customer no.")),
        service_date=_(N_("Service date")),
        your_vat_id=_(N_("Your VAT ID")),
        our_vat_id=_(N_("Our VAT ID")),
        position=_(N_("Pos.")),
        description=_(N_("Description")),
        quantity=_(N_("Quantity")),
        unit_price=_(N_("Unit price")),
        vat=_(N_("VAT")),
        net_amount=_(N_("Net amount")),
        total_net=_(N_("Total net")),
        no_vat=_(N_("No VAT charged")),
        thanks=_(N_("Thank you for your trust. We look forward to working with you again.")),
        refunded=_(N_("The amount is refunded to the payment method you paid with.")),
        charged_back=_(N_("Your bank has already returned the amount to you (chargeback).")),
        corrected_only=_(N_("This credit note corrects the invoice named above; no payment is made with it.")),
        managing_director=_(N_("Managing director")),
        vat_id=_(N_("VAT ID")),
        tax_number=_(N_("Tax number")),
    )
