"""An issued invoice or credit note as a Lexware Office bookkeeping voucher (``POST /vouchers``).

Our documents are the legal ones; Lexware Office books them, it does not number or render them: the voucher
carries our number, our date and our amounts, one item per VAT rate (``taxType: net``: each item's ``amount``
is its net), against the collective contact. A credit note is a ``salescreditnote`` with the amounts it gives
back as positive numbers, as the API expects.

Revenue is booked to the posting category "Einnahmen" (``REVENUE_CATEGORY_ID``, the revenue category of the
API's voucher documentation) for every tax treatment; the rate (0 % for reverse charge, small business and
exports) tells the tax. An account whose accountant wants other categories per treatment (EU services, OSS)
lists its own with ``GET /posting-categories``: change it here, it is one constant.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

from app.i18n import BERLIN
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.snapshots import berlin_day

REVENUE_CATEGORY_ID = "8f8664a8-fd86-11e1-a21f-0800200c9a66"
VOUCHER_TYPES = {InvoiceKind.INVOICE: "salesinvoice", InvoiceKind.CREDIT_NOTE: "salescreditnote"}


def voucher_of(invoice: Invoice) -> dict[str, Any]:
    day = berlin_day(invoice.issued_at)
    items = [
        {
            "amount": abs(Decimal(row["net"])),
            "taxAmount": abs(Decimal(row["tax"])),
            "taxRatePercent": Decimal(row["rate"]),
            "categoryId": REVENUE_CATEGORY_ID,
        }
        for row in invoice.tax_rates
    ]
    return {
        "type": VOUCHER_TYPES[invoice.kind],
        "voucherNumber": invoice.number,
        "voucherDate": datetime.combine(day, time(), BERLIN).isoformat(timespec="milliseconds"),
        "totalGrossAmount": abs(invoice.gross),
        "totalTaxAmount": abs(invoice.tax),
        "taxType": "net",
        "useCollectiveContact": True,
        "voucherItems": items,
    }


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"
