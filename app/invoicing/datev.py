"""The month's invoices and credit notes as a DATEV Buchungsstapel (EXTF format 700, category 21, version 13).

What DATEV's import expects: Windows-1252, fields separated by ``;``, text in double quotes, decimal commas and
CRLF line ends; a header line describing the batch, a line of column names, then one booking per document and
tax rate. The amount is the gross, always positive: an invoice debits (``S``) the debtor account, a credit note
credits it (``H``); the contra account is the revenue account of the document's tax treatment. The default SKR03
accounts are "Automatikkonten" that derive the VAT themselves, so no BU-Schlüssel is written. The file is for a
German tax advisor and its words (column names, booking texts) are DATEV's German ones in every language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.company.models import CompanySettings
from app.errors import DomainError
from app.i18n import BERLIN, N_
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.tax import TaxTreatment

ENCODING = "cp1252"
LINE_END = "\r\n"
GENERAL_LEDGER_DIGITS = 4  # Sachkontenlänge of SKR03 with 5-digit debtors
BOOKING_TEXT_LENGTH = 60

# Format version 13 of the Buchungsstapel: 125 columns, in this order.
COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *(f"Beleginfo - {part} {n}" for n in range(1, 9) for part in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Mitgliedstaat u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *(f"Zusatzinformation - {part} {n}" for n in range(1, 21) for part in ("Art", "Inhalt")),
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Mitgliedstaat (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Mitgliedstaat u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)
_POSITION = {name: index for index, name in enumerate(COLUMNS)}


class DatevNumbersMissing(DomainError):
    code = "datev_numbers_missing"
    title = N_("DATEV numbers missing")


NUMBERS_MISSING = N_("Enter the DATEV consultant and client numbers in the company settings first.")


@dataclass(frozen=True)
class DatevAccounts:
    """Whose books (Beraternummer, Mandantennummer) and which accounts: one debtor, one revenue per treatment."""

    consultant_number: int
    client_number: int
    debtor: int
    revenue: Mapping[TaxTreatment, int]

    @classmethod
    def of(cls, company: CompanySettings) -> DatevAccounts:
        if company.datev_consultant_number is None or company.datev_client_number is None:
            raise DatevNumbersMissing(NUMBERS_MISSING)
        return cls(
            consultant_number=company.datev_consultant_number,
            client_number=company.datev_client_number,
            debtor=company.datev_debtor_account,
            revenue={
                TaxTreatment.DOMESTIC: company.datev_account_domestic,
                TaxTreatment.REVERSE_CHARGE: company.datev_account_reverse_charge,
                TaxTreatment.EU_OSS: company.datev_account_eu_oss,
                TaxTreatment.NON_EU_BUSINESS: company.datev_account_non_eu_business,
                TaxTreatment.NON_EU_CONSUMER: company.datev_account_non_eu_consumer,
                TaxTreatment.SMALL_BUSINESS: company.datev_account_small_business,
            },
        )

    def revenue_account(self, treatment: TaxTreatment, rate: Decimal) -> int:
        # A consumer outside the EU buying a service taxed where we are (§3a Abs. 1 UStG) pays German VAT.
        if treatment is TaxTreatment.NON_EU_CONSUMER and rate > 0:
            return self.revenue[TaxTreatment.DOMESTIC]
        return self.revenue[treatment]


def buchungsstapel(
    documents: Sequence[Invoice],
    accounts: DatevAccounts,
    *,
    first: date,
    last: date,
    created_at: datetime,
    exported_by: str,
) -> bytes:
    """The DATEV file of ``documents`` (invoices and credit notes issued from ``first`` to ``last``, Berlin days)."""
    lines = [_header(accounts, first, last, created_at, exported_by), ";".join(COLUMNS)]
    lines += [";".join(row) for document in documents for row in _bookings(document, accounts)]
    return (LINE_END.join(lines) + LINE_END).encode(ENCODING, errors="replace")


def _header(accounts: DatevAccounts, first: date, last: date, created_at: datetime, exported_by: str) -> str:
    fields = [
        _text("EXTF"),
        "700",
        "21",
        _text("Buchungsstapel"),
        "13",
        created_at.astimezone(BERLIN).strftime("%Y%m%d%H%M%S%f")[:17],
        "",
        _text("RE"),  # Herkunft: Rechnungswesen
        _text(exported_by),
        "",
        str(accounts.consultant_number),
        str(accounts.client_number),
        f"{first.year}0101",  # the fiscal year is the calendar year
        str(GENERAL_LEDGER_DIGITS),
        first.strftime("%Y%m%d"),
        last.strftime("%Y%m%d"),
        _text(f"Ausgangsrechnungen {first:%m/%Y}"),
        "",
        "1",  # Buchungstyp: Finanzbuchführung
        "0",  # Rechnungslegungszweck: unabhängig
        "0",  # not fixed: the advisor fixes the batch after checking it
        _text("EUR"),
        "",
        "",
        "",
        "",
        _text("03"),  # SKR03
        "",
        "",
        "",
        "",
    ]
    return ";".join(fields)


def _bookings(document: Invoice, accounts: DatevAccounts) -> list[list[str]]:
    rows = []
    issued = document.issued_at.astimezone(BERLIN).date()
    for per_rate in document.tax_rates:
        gross, rate = Decimal(per_rate["gross"]), Decimal(per_rate["rate"])
        if gross == 0:
            continue  # DATEV refuses bookings of nothing
        row = [""] * len(COLUMNS)
        values = {
            "Umsatz (ohne Soll/Haben-Kz)": _amount(abs(gross)),
            "Soll/Haben-Kennzeichen": _text("S" if gross > 0 else "H"),
            "WKZ Umsatz": _text(document.currency),
            "Konto": str(accounts.debtor),
            "Gegenkonto (ohne BU-Schlüssel)": str(accounts.revenue_account(document.tax_treatment, rate)),
            "Belegdatum": issued.strftime("%d%m"),
            "Belegfeld 1": _text(document.number),
            "Buchungstext": _text(_booking_text(document)),
            "Leistungsdatum": document.service_to.strftime("%d%m%Y"),
        } | _eu_fields(document, rate)
        for name, value in values.items():
            row[_POSITION[name]] = value
        rows.append(row)
    return rows


def _eu_fields(document: Invoice, rate: Decimal) -> dict[str, str]:
    """What the VAT return, the ZM and the OSS return need to know of a sale into another EU country."""
    if document.tax_treatment is TaxTreatment.REVERSE_CHARGE and document.buyer.get("vat_id"):
        return {"EU-Mitgliedstaat u. UStID (Bestimmung)": _text(document.buyer["vat_id"])}
    if document.tax_treatment is TaxTreatment.EU_OSS:
        return {
            "EU-Mitgliedstaat u. UStID (Bestimmung)": _text(document.buyer.get("country") or ""),
            "EU-Steuersatz (Bestimmung)": _amount(rate),
        }
    return {}


def _booking_text(document: Invoice) -> str:
    kind = "Gutschrift" if document.kind is InvoiceKind.CREDIT_NOTE else "Rechnung"
    buyer = document.buyer.get("company") or document.buyer.get("name") or ""
    return f"{kind} {buyer}".strip()[:BOOKING_TEXT_LENGTH]


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _text(value: str) -> str:
    flat = " ".join(value.split())  # no line breaks inside a field
    return '"' + flat.replace('"', '""') + '"'
