"""What an invoice prints, taken from the company settings, the customer and the order at the moment of issue.

Snapshots are plain JSON (amounts as strings, dates ISO): the invoice row keeps them unchanged for ten years,
whatever later happens to the settings, the customer (GDPR erasure) or the order.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.company.models import CompanySettings
from app.company.services import COMPANY_FIELDS
from app.customers.models import Customer
from app.i18n import BERLIN, N_, Message, translations
from app.invoicing.tax import (
    NOT_TAXABLE_BUSINESS_NOTE,
    NOT_TAXABLE_CONSUMER_NOTE,
    REVERSE_CHARGE_NOTE,
    SMALL_BUSINESS_NOTE,
    TaxTreatment,
)
from app.orders.models import Order
from app.payments.models import Payment

# What an invoice states about the seller: the company settings, without the tax regime (decided per order).
SELLER_FIELDS = tuple(field for field in COMPANY_FIELDS if field not in ("is_small_business", "service_classification"))

# §18j UStG: a sale declared through the One-Stop-Shop carries the buyer country's VAT; the invoice says so.
OSS_NOTE = Message(N_("VAT of the customer's country (%(country)s) charged under the One-Stop-Shop scheme (§18j UStG)"))


def berlin_day(moment: datetime) -> date:
    return moment.astimezone(BERLIN).date()  # invoice dates are the seller's calendar days


def seller_snapshot(company: CompanySettings) -> dict[str, Any]:
    return {name: getattr(company, name) for name in SELLER_FIELDS} | {"small_business": company.is_small_business}


def buyer_snapshot(customer: Customer, order: Order) -> dict[str, Any]:
    """The buyer as the order recorded its tax facts (country, business, VAT ID) and the customer's address."""
    return {
        "customer_id": customer.id,
        "name": customer.name,
        "company": customer.company,
        "email": customer.email,
        "address_line1": customer.address_line1,
        "address_line2": customer.address_line2,
        "postal_code": customer.postal_code,
        "city": customer.city,
        "country": order.buyer_country,
        "is_business": order.buyer_is_business,
        "vat_id": order.buyer_vat_id,
    }


def line_snapshots(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "position": line.position,
            "description": line.service_name,
            "link": line.link,
            "quantity": line.quantity,
            "unit_price_per_1000": str(line.unit_price),
            "net": str(line.net),
            "tax_rate": str(order.tax_rate),
        }
        for line in sorted(order.lines, key=lambda line: line.position)
    ]


def tax_rate_totals(rate: Decimal, net: Decimal, tax: Decimal, gross: Decimal) -> list[dict[str, str]]:
    """Net, tax and gross per rate (§14 Abs. 4 Nr. 7/8 UStG); our orders carry one rate."""
    return [{"rate": str(rate), "net": str(net), "tax": str(tax), "gross": str(gross)}]


def payment_snapshot(payment: Payment | None, paid_at: datetime) -> dict[str, Any]:
    """How and when the invoice was paid (it is issued on payment: the PDF says it is settled)."""
    if payment is None:
        return {"method": None, "paid_at": paid_at.isoformat(), "reference": None}
    return {
        "method": payment.method.value,
        "paid_at": (payment.paid_at or paid_at).isoformat(),
        "reference": payment.stripe_payment_intent_id,
    }


def legal_note(treatment: TaxTreatment, rate: Decimal, country: str) -> Message | None:
    """The note the VAT engine's treatment requires on the invoice (§14a UStG, §19 UStG), None when none."""
    if treatment is TaxTreatment.REVERSE_CHARGE:
        return REVERSE_CHARGE_NOTE
    if treatment is TaxTreatment.SMALL_BUSINESS:
        return SMALL_BUSINESS_NOTE
    if treatment is TaxTreatment.NON_EU_BUSINESS:
        return NOT_TAXABLE_BUSINESS_NOTE
    if treatment is TaxTreatment.NON_EU_CONSUMER and rate == 0:
        return NOT_TAXABLE_CONSUMER_NOTE
    if treatment is TaxTreatment.EU_OSS:
        return Message(OSS_NOTE.id, {"country": country})
    return None


def legal_note_texts(note: Message | None, locale: str) -> tuple[str | None, str | None]:
    """(German wording, which the invoice always prints; the buyer's language when that is not German)."""
    if note is None:
        return None, None
    german = note.render(translations("de").gettext)
    return german, None if locale == "de" else note.render(translations(locale).gettext)
