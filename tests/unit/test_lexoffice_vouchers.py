"""Our documents as Lexware Office vouchers: amounts as JSON numbers that add up the way the API checks them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.tax import TaxTreatment
from app.lexoffice.client import JSON_ENCODER
from app.lexoffice.commands import backoff
from app.lexoffice.vouchers import voucher_of
from app.sandbox.lexoffice import voucher_issues


def document(kind: InvoiceKind, net: str, tax: str, gross: str, rate: str, treatment: TaxTreatment) -> Invoice:
    return Invoice(
        number="GS-2026-000007" if kind == InvoiceKind.CREDIT_NOTE else "RE-2026-000042",
        kind=kind,
        issued_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),  # already 1 December in Berlin
        tax_rates=[{"rate": rate, "net": net, "tax": tax, "gross": gross}],
        net=Decimal(net),
        tax=Decimal(tax),
        gross=Decimal(gross),
        tax_treatment=treatment,
    )


def as_sent(voucher: dict[str, object]) -> dict[str, object]:
    sent: dict[str, object] = json.loads(JSON_ENCODER.encode(voucher), parse_float=Decimal)
    return sent


def test_a_credit_note_is_a_sales_credit_note_with_positive_amounts_on_its_berlin_date():
    credit = document(InvoiceKind.CREDIT_NOTE, "-2.50", "-0.48", "-2.98", "19.00", TaxTreatment.DOMESTIC)

    sent = as_sent(voucher_of(credit))

    assert sent["type"] == "salescreditnote"
    assert sent["voucherDate"] == "2026-12-01T00:00:00.000+01:00"
    assert (sent["totalGrossAmount"], sent["totalTaxAmount"]) == (Decimal("2.98"), Decimal("0.48"))
    assert voucher_issues(sent) == []


def test_a_reverse_charge_invoice_books_its_net_at_zero_percent():
    invoice = document(InvoiceKind.INVOICE, "100.00", "0.00", "100.00", "0", TaxTreatment.REVERSE_CHARGE)

    sent = as_sent(voucher_of(invoice))

    (item,) = sent["voucherItems"]  # type: ignore[misc]
    assert (item["amount"], item["taxAmount"], item["taxRatePercent"]) == (Decimal("100.00"), Decimal("0.00"), 0)
    assert voucher_issues(sent) == []


def test_failed_syncs_wait_longer_each_time_up_to_six_hours():
    waits = [backoff(attempts).total_seconds() / 60 for attempts in (1, 2, 3, 20)]

    assert waits == [2, 4, 8, 360]
