"""The structured e-invoice: Factur-X / ZUGFeRD (profile EN 16931, CII syntax) built from the invoice row's snapshots.

German businesses must be able to receive e-invoices since 2025 and issue them from 2027/2028 (§14 Abs. 1 UStG as
amended by the Wachstumschancengesetz); a PDF that carries the EN 16931 XML is one. The XML states the same facts as
the printed PDF — number, dates, seller and buyer, lines, VAT per category, totals, the legal note — and is built
from the same immutable snapshots, so the two cannot disagree.

How our tax treatments map to the EN 16931 VAT categories (UNTDID 5305):

- domestic, EU One-Stop-Shop, non-EU consumer taxed in Germany: ``S`` (standard rate; the rate charged);
- reverse charge to an EU business: ``AE`` with exemption code ``VATEX-EU-AE`` (both VAT IDs are on the invoice);
- not taxable in Germany (non-EU business, non-EU consumer of electronic services): ``O`` with ``VATEX-EU-O``;
  EN 16931 forbids VAT identifiers on such an invoice (BR-O-02), so the seller is identified by its tax number;
- small business (§19 UStG): ``E`` with the law's wording as the exemption reason.

Credit notes are type 381 with positive amounts and the corrected invoice as preceding invoice reference (BG-3);
our credit note rows store negative amounts (they reverse the invoice), so this module states their magnitude.
Everything was paid before the invoice was issued: the prepaid amount is the gross, the amount due zero.
"""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import drafthorse
import structlog
from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentTerms
from drafthorse.models.tradelines import LineItem
from drafthorse.xmp_schema import XMP_SCHEMA
from lxml import etree
from PIL import ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from app.invoicing.models import CORRECTION, Invoice, InvoiceKind
from app.invoicing.pdf import render_invoice
from app.invoicing.snapshots import berlin_day
from app.invoicing.tax import TaxTreatment

PROFILE = "urn:cen.eu:en16931:2017"
LEVEL = "EN 16931"  # the Factur-X conformance level named in the PDF's XMP metadata
FILE_NAME = "factur-x.xml"
PRODUCER = "SMPLaT"
log = structlog.get_logger(__name__)

TYPE_CODES = {InvoiceKind.INVOICE: "380", InvoiceKind.CREDIT_NOTE: "381"}
CATEGORIES: dict[TaxTreatment, tuple[str, str | None]] = {
    TaxTreatment.DOMESTIC: ("S", None),
    TaxTreatment.EU_OSS: ("S", None),
    TaxTreatment.REVERSE_CHARGE: ("AE", "VATEX-EU-AE"),
    TaxTreatment.NON_EU_BUSINESS: ("O", "VATEX-EU-O"),
    TaxTreatment.SMALL_BUSINESS: ("E", None),
}
UNIT = "C62"  # "one": our quantities are counts of followers, likes, views …
PER_THOUSAND = Decimal(1000)


def category(invoice: Invoice) -> tuple[str, str | None]:
    """The VAT category code and exemption reason code of the invoice's tax treatment and rate."""
    if invoice.tax_treatment is TaxTreatment.NON_EU_CONSUMER:
        return ("S", None) if invoice.tax else ("O", "VATEX-EU-O")
    return CATEGORIES[invoice.tax_treatment]


def cii_xml(invoice: Invoice, corrects: Invoice | None = None) -> bytes:
    """The invoice (or the credit note with the invoice it ``corrects``) as EN 16931 CII XML, schema-checked."""
    code, exemption_code = category(invoice)
    doc = Document()
    doc.context.guideline_parameter.id = PROFILE
    doc.header.id = invoice.number
    doc.header.type_code = TYPE_CODES[invoice.kind]
    doc.header.issue_date_time = berlin_day(invoice.issued_at)
    if invoice.legal_note:
        doc.header.notes.add(IncludedNote(content=invoice.legal_note, subject_code="REG"))

    _party(doc.trade.agreement.seller, _seller(invoice.seller), invoice.seller.get("email"))
    _seller_registrations(doc, invoice.seller, code)
    _party(doc.trade.agreement.buyer, _buyer(invoice.buyer), invoice.buyer.get("email"))
    if invoice.buyer.get("vat_id") and code != "O":
        doc.trade.agreement.buyer.tax_registrations.add(TaxRegistration(id=("VA", invoice.buyer["vat_id"])))
    doc.trade.agreement.buyer_reference = f"K-{invoice.buyer['customer_id']:06d}"

    settlement = doc.trade.settlement
    settlement.currency_code = invoice.currency
    settlement.period.start = invoice.service_from
    settlement.period.end = invoice.service_to
    doc.trade.delivery.event.occurrence = invoice.service_to  # BT-72: the day the work was done
    if corrects is not None:
        settlement.invoice_referenced_document.issuer_assigned_id = corrects.number
        settlement.invoice_referenced_document.issue_date_time = berlin_day(corrects.issued_at)

    rate = Decimal(invoice.tax_rates[0]["rate"]) if invoice.tax_rates else Decimal(0)
    for row in invoice.lines:
        doc.trade.items.add(_line(row, code, rate))
    for row in invoice.tax_rates:
        settlement.trade_tax.add(_tax(row, code, exemption_code, invoice.legal_note))

    paid = invoice.payment.get("paid_at")
    settled = _settled(invoice)  # BT-20: nothing is due
    settlement.terms.add(PaymentTerms(description=f"{settled} {paid[:10]}" if paid else settled))
    net, tax, gross = abs(invoice.net), abs(invoice.tax), abs(invoice.gross)
    totals = settlement.monetary_summation
    totals.line_total = net
    totals.charge_total = Decimal("0.00")
    totals.allowance_total = Decimal("0.00")
    totals.tax_basis_total = net
    totals.tax_total = (tax, invoice.currency)
    totals.grand_total = gross
    totals.prepaid_total = gross
    totals.due_amount = Decimal("0.00")
    xml: bytes = doc.serialize(schema=None)
    schema().assertValid(etree.fromstring(xml))
    return xml


def _settled(invoice: Invoice) -> str:
    if invoice.kind == InvoiceKind.INVOICE:
        return "Paid"
    return "Corrected" if invoice.payment.get("method") == CORRECTION else "Refunded"


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The Factur-X EN 16931 XSD drafthorse ships, parsed once per process."""
    return etree.XMLSchema(file=str(Path(drafthorse.__file__).parent / "schema" / "Factur-X_1.0.07_EN16931.xsd"))


def _seller(seller: dict[str, Any]) -> dict[str, Any]:
    return {**seller, "name": seller["legal_name"]}


def _buyer(buyer: dict[str, Any]) -> dict[str, Any]:
    # BT-44 is required; a consumer who gave only an email is named by it.
    return {**buyer, "name": buyer.get("company") or buyer.get("name") or buyer.get("email")}


def _party(party: Any, facts: dict[str, Any], email: str | None) -> None:
    party.name = facts["name"]
    address = party.address
    address.line_one = facts.get("address_line1") or None
    address.line_two = facts.get("address_line2") or None
    address.postcode = facts.get("postal_code") or None
    address.city_name = facts.get("city") or None
    address.country_id = facts["country"]
    if email:
        party.electronic_address.uri_ID = ("EM", email)


def _seller_registrations(doc: Document, seller: dict[str, Any], code: str) -> None:
    registrations = doc.trade.agreement.seller.tax_registrations
    if seller.get("vat_id") and code != "O":
        registrations.add(TaxRegistration(id=("VA", seller["vat_id"])))
    if seller.get("tax_number"):
        registrations.add(TaxRegistration(id=("FC", seller["tax_number"])))


def _line(row: dict[str, Any], code: str, rate: Decimal) -> LineItem:
    net = abs(Decimal(row["net"]))
    item = LineItem()
    item.document.line_id = str(row["position"])
    item.product.name = row["description"]
    if row.get("link"):
        item.product.description = row["link"]
    if row.get("quantity") and row.get("unit_price_per_1000"):
        item.agreement.net.amount = Decimal(row["unit_price_per_1000"])
        item.agreement.net.basis_quantity = (PER_THOUSAND, UNIT)
        item.delivery.billed_quantity = (Decimal(row["quantity"]), UNIT)
    else:  # a credit note's line: the amount credited, once
        item.agreement.net.amount = net
        item.delivery.billed_quantity = (Decimal(1), UNIT)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = code
    item.settlement.trade_tax.rate_applicable_percent = rate if code == "S" else Decimal(0)
    item.settlement.monetary_summation.total_amount = net
    return item


def _tax(row: dict[str, Any], code: str, exemption_code: str | None, legal_note: str | None) -> ApplicableTradeTax:
    tax = ApplicableTradeTax()
    tax.type_code = "VAT"
    tax.category_code = code
    tax.basis_amount = abs(Decimal(row["net"]))
    tax.calculated_amount = abs(Decimal(row["tax"]))
    tax.rate_applicable_percent = Decimal(row["rate"]) if code == "S" else Decimal(0)
    if code != "S":
        tax.exemption_reason = legal_note
        tax.exemption_reason_code = exemption_code
    return tax


def invoice_pdf(invoice: Invoice, corrects: Invoice | None = None) -> bytes:
    """The stored PDF of an invoice: printed, with its EN 16931 XML attached. Should the XML not pass its schema
    (a bug: the snapshots are checked when the invoice is issued), the printed PDF alone is stored — still the
    invoice §14 UStG asks for — and the failure is logged as an error, so that no payment waits for it."""
    printed = render_invoice(invoice, corrects)
    try:
        xml = cii_xml(invoice, corrects)
    except (etree.XMLSyntaxError, etree.DocumentInvalid, ValueError, TypeError, AttributeError):
        log.exception("factur-x xml not built", invoice=invoice.number)
        return printed
    return embed(printed, xml, invoice)


def attached_xml(pdf: bytes) -> bytes | None:
    """The EN 16931 XML a stored PDF carries (None: a PDF stored before e-invoices, or without one)."""
    attached = PdfReader(io.BytesIO(pdf)).attachments.get(FILE_NAME)
    return attached[0] if attached else None


def embed(pdf: bytes, xml: bytes, invoice: Invoice) -> bytes:
    """The printed ``pdf`` as a Factur-X PDF/A-3: ``xml`` attached as ``factur-x.xml`` (relationship Alternative),
    XMP metadata naming the profile, and an sRGB output intent. Dates are the invoice's, so the bytes stay the
    same for the same invoice."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    stamp = invoice.issued_at.astimezone(UTC)
    attachment = writer.add_attachment(FILE_NAME, xml)
    attachment.subtype = NameObject("/text/xml")
    attachment.alternative_name = TextStringObject(FILE_NAME)
    attachment.description = TextStringObject(f"Factur-X {LEVEL} ({PROFILE})")
    attachment.associated_file_relationship = NameObject("/Alternative")
    attachment.creation_date = attachment.modification_date = stamp
    attachment.size = NumberObject(len(xml))
    title = f"{invoice.number}"
    author = invoice.seller["legal_name"]
    metadata = DecodedStreamObject()
    metadata.set_data(_xmp(title, author, stamp).encode())
    metadata.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object.update(
        {
            NameObject("/AF"): ArrayObject([attachment.pdf_object.indirect_reference]),
            NameObject("/Metadata"): writer._add_object(metadata),
            NameObject("/OutputIntents"): ArrayObject([writer._add_object(_output_intent(writer))]),
            NameObject("/Lang"): TextStringObject(invoice.locale),
        }
    )
    pdf_date = stamp.strftime("D:%Y%m%d%H%M%SZ")
    writer.add_metadata(
        {"/Title": title, "/Author": author, "/Producer": PRODUCER, "/CreationDate": pdf_date, "/ModDate": pdf_date}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _xmp(title: str, author: str, stamp: datetime) -> str:
    return str(
        XMP_SCHEMA.format(
            title=xml_escape(title),
            author=xml_escape(author),
            subject=xml_escape(f"Factur-X {LEVEL}"),
            producer=PRODUCER,
            creator_tool=PRODUCER,
            timestamp=stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            urn="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
            documenttype="INVOICE",
            xml_filename=FILE_NAME,
            version="1.0",
            xmp_level=LEVEL,
        )
    )


def _output_intent(writer: PdfWriter) -> DictionaryObject:
    profile = DecodedStreamObject()
    profile.set_data(srgb_profile())
    profile.update({NameObject("/N"): NumberObject(3)})
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile (little CMS through Pillow) with a fixed creation date in its header (bytes 24 to 35),
    so that the same invoice always gives the same file."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
    return bytes(data)
