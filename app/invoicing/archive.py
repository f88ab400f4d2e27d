"""A ZIP of invoice and credit-note PDFs with an index for the tax advisor.

Written entry by entry into any binary file (a temporary file, the CLI's output), so the caller holds one PDF at
a time. The index (``index.csv``, written last) lists every document with its amounts and the SHA-256 stored
with its PDF, so the advisor can check that each file is the one issued. It is a CSV for German Excel:
UTF-8 with a byte order mark, ``;`` and decimal commas.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import IO
from zipfile import ZIP_DEFLATED, ZipFile

from app.i18n import BERLIN, N_, Translate
from app.invoicing.models import Invoice, InvoiceKind

INDEX_NAME = "index.csv"
INDEX_COLUMNS = (
    N_("Number"),
    N_("Kind"),
    N_("Date"),
    N_("Customer"),
    N_("Net"),
    N_("Tax"),
    N_("Gross"),
    N_("Currency"),
    N_("Tax treatment"),
    N_("SHA-256"),
)
KIND_LABELS = {InvoiceKind.INVOICE: N_("Invoice"), InvoiceKind.CREDIT_NOTE: N_("Credit note")}


class InvoiceArchive:
    """``add`` each document with its stored PDF, then ``close`` to write the index and finish the ZIP."""

    def __init__(self, target: IO[bytes], translate: Translate) -> None:
        self._zip = ZipFile(target, "w", compression=ZIP_DEFLATED)
        self._translate = translate
        self._rows: list[list[str]] = []

    def add(self, document: Invoice, pdf: bytes) -> None:
        self._zip.writestr(f"{document.number}.pdf", pdf)
        self._rows.append(self._index_row(document))

    def close(self) -> None:
        text = io.StringIO()
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        writer.writerow([self._translate(title) for title in INDEX_COLUMNS])
        writer.writerows(self._rows)
        self._zip.writestr(INDEX_NAME, text.getvalue().encode("utf-8-sig"))
        self._zip.close()

    def _index_row(self, document: Invoice) -> list[str]:
        buyer = document.buyer
        return [
            document.number,
            self._translate(KIND_LABELS[document.kind]),
            document.issued_at.astimezone(BERLIN).date().isoformat(),
            buyer.get("company") or buyer.get("name") or "",
            _amount(document.net),
            _amount(document.tax),
            _amount(document.gross),
            document.currency,
            document.tax_treatment.value,
            document.pdf_sha256 or "",
        ]


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")
