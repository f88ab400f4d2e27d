"""The DATEV Buchungsstapel as DATEV reads it: cp1252, ``;``, decimal commas, CRLF, EXTF header, one booking per
document and rate on the configured accounts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.company.models import CompanySettings
from app.invoicing.datev import COLUMNS, DatevAccounts, DatevNumbersMissing, buchungsstapel
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.tax import TaxTreatment
from reports.periods import calendar_month
from tests.unit.invoice_samples import BUYER, sample_invoice

ACCOUNTS = DatevAccounts(
    consultant_number=1001,
    client_number=10001,
    debtor=10000,
    revenue={
        TaxTreatment.DOMESTIC: 8400,
        TaxTreatment.REVERSE_CHARGE: 8336,
        TaxTreatment.EU_OSS: 8331,
        TaxTreatment.NON_EU_BUSINESS: 8338,
        TaxTreatment.NON_EU_CONSUMER: 8339,
        TaxTreatment.SMALL_BUSINESS: 8195,
    },
)
OCTOBER = {"first": date(2026, 10, 1), "last": date(2026, 10, 31)}
CREATED = datetime(2026, 11, 2, 8, 30, 15, 123000, tzinfo=UTC)


def export(*documents: Invoice) -> bytes:
    return buchungsstapel(list(documents), ACCOUNTS, **OCTOBER, created_at=CREATED, exported_by="finance@x.example")


def parsed(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("cp1252"), newline=""), delimiter=";"))


def bookings(content: bytes) -> list[dict[str, str]]:
    _header, columns, *rows = parsed(content)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def credit_note(of: Invoice, gross: str) -> Invoice:
    credit = sample_invoice(treatment=of.tax_treatment, lines=1)
    credit.kind, credit.number = InvoiceKind.CREDIT_NOTE, "GS-2026-000007"
    amount = Decimal(gross)
    credit.tax_rates = [{"rate": "19.00", "net": str(amount), "tax": "0.00", "gross": str(amount)}]
    credit.gross = amount
    return credit


def test_the_file_is_windows_1252_with_crlf_and_an_extf_header_describing_the_batch():
    content = export(sample_invoice())
    assert content.endswith(b"\r\n") and b"\n" not in content.replace(b"\r\n", b"")
    assert "Bäckerei".encode("cp1252") in content
    header = parsed(content)[0]
    assert header[:6] == ["EXTF", "700", "21", "Buchungsstapel", "13", "20261102093015123"]
    assert header[10:16] == ["1001", "10001", "20260101", "4", "20261001", "20261031"]
    assert header[21] == "EUR" and header[26] == "03"
    assert len(header) == 31


def test_the_column_line_names_all_125_columns_and_every_row_has_them_all():
    _header, columns, *rows = parsed(export(sample_invoice(), sample_invoice()))
    assert columns == list(COLUMNS) and len(columns) == 125
    assert [len(row) for row in rows] == [125, 125]


def test_an_invoice_debits_the_debtor_against_the_revenue_account_with_its_gross():
    invoice = sample_invoice(lines=2)  # net 7.50, VAT 1.43
    invoice.issued_at = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 1 November in Berlin
    (booking,) = bookings(export(invoice))
    assert booking["Umsatz (ohne Soll/Haben-Kz)"] == "8,93"
    assert booking["Soll/Haben-Kennzeichen"] == "S"
    assert booking["WKZ Umsatz"] == "EUR"
    assert (booking["Konto"], booking["Gegenkonto (ohne BU-Schlüssel)"]) == ("10000", "8400")
    assert booking["BU-Schlüssel"] == ""  # 8400 is an automatic account: DATEV derives the 19 %
    assert booking["Belegdatum"] == "0111"
    assert booking["Belegfeld 1"] == "RE-2026-000123"
    assert booking["Buchungstext"] == "Rechnung Bäckerei Schäfer OHG"
    assert booking["Leistungsdatum"] == "30112026"


def test_a_credit_note_credits_the_debtor_with_the_positive_amount():
    (booking,) = bookings(export(credit_note(sample_invoice(), "-2.98")))
    assert (booking["Umsatz (ohne Soll/Haben-Kz)"], booking["Soll/Haben-Kennzeichen"]) == ("2,98", "H")
    assert booking["Belegfeld 1"] == "GS-2026-000007"
    assert booking["Buchungstext"].startswith("Gutschrift ")


@pytest.mark.parametrize(
    ("treatment", "rate", "account"),
    [
        (TaxTreatment.DOMESTIC, "19.00", "8400"),
        (TaxTreatment.REVERSE_CHARGE, "0.00", "8336"),
        (TaxTreatment.EU_OSS, "21.00", "8331"),
        (TaxTreatment.NON_EU_BUSINESS, "0.00", "8338"),
        (TaxTreatment.NON_EU_CONSUMER, "0.00", "8339"),
        (TaxTreatment.NON_EU_CONSUMER, "19.00", "8400"),  # German VAT charged: a German-VAT sale
        (TaxTreatment.SMALL_BUSINESS, "0.00", "8195"),
    ],
)
def test_each_tax_treatment_books_to_its_configured_revenue_account(treatment: TaxTreatment, rate: str, account: str):
    (booking,) = bookings(export(sample_invoice(treatment=treatment, rate=rate)))
    assert booking["Gegenkonto (ohne BU-Schlüssel)"] == account


def test_eu_sales_name_the_buyer_country_for_the_zm_and_oss_returns():
    reverse = sample_invoice(
        treatment=TaxTreatment.REVERSE_CHARGE, rate="0.00", buyer=BUYER | {"vat_id": "ATU12345678"}
    )
    oss = sample_invoice(treatment=TaxTreatment.EU_OSS, rate="21.00", buyer=BUYER | {"country": "NL"})
    first, second = bookings(export(reverse, oss))
    assert first["EU-Mitgliedstaat u. UStID (Bestimmung)"] == "ATU12345678"
    assert (second["EU-Mitgliedstaat u. UStID (Bestimmung)"], second["EU-Steuersatz (Bestimmung)"]) == ("NL", "21,00")


def test_text_fields_keep_quotes_and_semicolons_and_lose_line_breaks():
    invoice = sample_invoice(buyer=BUYER | {"company": 'Kiosk "Eck;e"\r\nGmbH ✓'})
    (booking,) = bookings(export(invoice))
    assert booking["Buchungstext"] == 'Rechnung Kiosk "Eck;e" GmbH ?'  # not in cp1252: replaced, not a crash


def test_documents_without_an_amount_are_left_out():
    invoice = sample_invoice()
    invoice.tax_rates = [{"rate": "19.00", "net": "0.00", "tax": "0.00", "gross": "0.00"}]
    assert bookings(export(invoice)) == []


def test_accounts_come_from_the_company_settings_and_need_the_advisor_numbers():
    company = CompanySettings(datev_consultant_number=None, datev_client_number=5, datev_debtor_account=10000)
    with pytest.raises(DatevNumbersMissing):
        DatevAccounts.of(company)


@pytest.mark.parametrize(
    ("raw", "first", "last"),
    [("2026-10", date(2026, 10, 1), date(2026, 10, 31)), ("2028-02", date(2028, 2, 1), date(2028, 2, 29))],
)
def test_a_month_is_its_calendar_days(raw: str, first: date, last: date):
    month = calendar_month(raw)
    assert (month.first, month.last) == (first, last)


@pytest.mark.parametrize("raw", ["2026-13", "2026-1", "10/2026", "", "2026-10-01", "abcd-ef"])
def test_anything_but_a_month_is_refused(raw: str):
    with pytest.raises(ValueError, match=r"not a month|month must be"):
        calendar_month(raw)
