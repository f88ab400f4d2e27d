"""Golden tests of the invoice PDF: the §14 UStG fields and each tax treatment's wording, read back from the file."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from app.invoicing.pdf import render_invoice
from app.invoicing.tax import TaxTreatment
from tests.unit.invoice_samples import BUYER, sample_invoice


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def fonts_of(pdf: bytes) -> set[str]:
    fonts: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            fonts.add(str(descriptor["/BaseFont"]))
            assert "/FontFile2" in descriptor["/FontDescriptor"], f"{descriptor['/BaseFont']} is not embedded"
    return fonts


def test_a_domestic_invoice_in_german_carries_every_mandatory_field():
    pdf = render_invoice(sample_invoice())
    text = text_of(pdf)

    for expected in (
        "SMPLaT Growth GmbH · Torstraße 120 · 10119 Berlin",  # seller name and address
        "USt-IdNr.: DE811907980",
        "Steuernummer: 37/123/45678",
        "Bäckerei Schäfer OHG Jana Schäfer Grüner Weg 7 50667 Köln",  # buyer name and address
        "Rechnung RE-2026-000123",
        "Rechnungsdatum 30.11.2026",
        "Leistungsdatum 30.11.2026",
        "Instagram Follower – Paket 1",  # kind of service
        "1.000",  # quantity
        "2.000",
        "Summe netto 7,50 €",
        "zzgl. 19 % USt. 1,43 €",
        "Rechnungsbetrag 8,93 €",
        "IBAN: DE89 3704 0044 0532 0130 00",
        "Bezahlt per Karte am 30.11.2026",
        "Seite 1 von 1",
    ):
        assert expected in text, expected
    assert fonts_of(pdf) == {"/AAAAAA+DejaVuSans", "/AAAAAA+DejaVuSans-Bold"}


def test_reverse_charge_shows_both_vat_ids_and_the_note_in_german_and_english():
    buyer = BUYER | {"country": "AT", "vat_id": "ATU12345678", "city": "Wien", "postal_code": "1010"}
    text = text_of(
        render_invoice(sample_invoice(treatment=TaxTreatment.REVERSE_CHARGE, rate="0.00", locale="en", buyer=buyer))
    )

    assert "Your VAT ID ATU12345678" in text
    assert "Our VAT ID DE811907980" in text
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text
    assert "Reverse charge: the recipient is liable for the VAT" in text
    assert "Total net €7.50" in text
    assert "No VAT charged €0.00" in text
    assert "Invoice total €7.50" in text
    assert "Austria" in text


def test_a_small_business_invoice_charges_no_vat_and_cites_section_19():
    text = text_of(render_invoice(sample_invoice(treatment=TaxTreatment.SMALL_BUSINESS, rate="0.00")))

    assert "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet." in text
    assert "Ohne Umsatzsteuer 0,00 €" in text
    assert "Rechnungsbetrag 7,50 €" in text
    assert "zzgl." not in text


def test_an_oss_invoice_charges_the_buyer_countrys_rate_and_says_why():
    buyer = BUYER | {"country": "FR", "company": None, "is_business": False, "city": "Paris", "postal_code": "75001"}
    text = text_of(render_invoice(sample_invoice(treatment=TaxTreatment.EU_OSS, rate="20.00", buyer=buyer)))

    assert "zzgl. 20 % USt. 1,50 €" in text
    assert "Rechnungsbetrag 9,00 €" in text
    assert "Umsatzsteuer des Bestimmungslandes (FR), erklärt im One-Stop-Shop-Verfahren (§18j UStG)" in text
    assert "Frankreich" in text


@pytest.mark.parametrize(
    ("treatment", "is_business", "german", "english"),
    [
        (
            TaxTreatment.NON_EU_BUSINESS,
            True,
            "Nicht im Inland steuerbar (§3a Abs. 2 UStG)",
            "Not taxable in Germany (§3a(2) UStG)",
        ),
        (
            TaxTreatment.NON_EU_CONSUMER,
            False,
            "Nicht im Inland steuerbar",
            "Not taxable in Germany: supplied where the customer lives (§3a(5) UStG)",
        ),
    ],
)
def test_a_non_eu_invoice_is_not_taxed_in_germany_and_says_so_in_german_too(treatment, is_business, german, english):
    buyer = BUYER | {"country": "US", "is_business": is_business, "city": "New York", "postal_code": "10001"}
    text = text_of(render_invoice(sample_invoice(treatment=treatment, rate="0.00", locale="en", buyer=buyer)))

    assert german in text
    assert english in text
    assert "Invoice total €7.50" in text
    assert "United States" in text


def test_a_long_invoice_numbers_its_pages_and_repeats_the_table_head():
    pdf = render_invoice(sample_invoice(lines=40, locale="en"))
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]

    assert len(pages) == 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 3" in page
        assert "Description" in page
    assert "Invoice total €2,439.50" in pages[-1]


def test_rendering_the_same_invoice_twice_gives_the_same_bytes():
    assert render_invoice(sample_invoice()) == render_invoice(sample_invoice())
