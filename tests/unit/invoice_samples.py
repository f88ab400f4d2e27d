"""Invoices as they are issued, built in memory for the PDF tests (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import app.models  # noqa: F401 - every mapper configured before an Invoice is built
from app.demo.catalog import COMPANY
from app.invoicing import snapshots
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.tax import TaxTreatment
from app.money import to_cents

SELLER = {name: COMPANY.get(name) for name in snapshots.SELLER_FIELDS} | {"small_business": False}
BUYER = {
    "customer_id": 42,
    "name": "Jana Schäfer",
    "company": "Bäckerei Schäfer OHG",
    "email": "jana@baeckerei.example",
    "address_line1": "Grüner Weg 7",
    "address_line2": None,
    "postal_code": "50667",
    "city": "Köln",
    "country": "DE",
    "is_business": True,
    "vat_id": None,
}


def sample_invoice(
    *,
    treatment: TaxTreatment = TaxTreatment.DOMESTIC,
    rate: str = "19.00",
    locale: str = "de",
    buyer: dict[str, Any] | None = None,
    seller: dict[str, Any] | None = None,
    lines: int = 2,
) -> Invoice:
    line_rows = [
        {
            "position": n,
            "description": f"Instagram Follower – Paket {n}",
            "link": f"https://www.instagram.com/baeckerei_schaefer_{n}/",
            "quantity": 1000 * n,
            "unit_price_per_1000": "2.5000",
            "net": str(Decimal("2.50") * n),
            "tax_rate": rate,
        }
        for n in range(1, lines + 1)
    ]
    net = sum((Decimal(line["net"]) for line in line_rows), Decimal("0.00"))
    tax = to_cents(net * Decimal(rate) / 100)
    country = (buyer or BUYER)["country"]
    note_de, note_translation = snapshots.legal_note_texts(
        snapshots.legal_note(treatment, Decimal(rate), country), locale
    )
    return Invoice(
        number="RE-2026-000123",
        kind=InvoiceKind.INVOICE,
        order_id=1,
        customer_id=42,
        issued_at=datetime(2026, 11, 30, 17, 5, tzinfo=UTC),
        service_from=date(2026, 11, 30),
        service_to=date(2026, 11, 30),
        locale=locale,
        seller=seller or SELLER,
        buyer=buyer or BUYER,
        lines=line_rows,
        tax_rates=snapshots.tax_rate_totals(Decimal(rate), net, tax, net + tax),
        currency="EUR",
        net=net,
        tax=tax,
        gross=net + tax,
        tax_treatment=treatment,
        legal_note=note_de,
        legal_note_translation=note_translation,
        payment={"method": "stripe", "paid_at": "2026-11-30T17:04:00+00:00", "reference": "pi_123"},
    )
