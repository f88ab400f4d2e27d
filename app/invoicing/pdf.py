"""The invoice PDF (ReportLab platypus): every §14 Abs. 4 UStG field, from the invoice row's snapshots alone.

Fonts are the vendored DejaVu TTFs (``fonts/``), embedded in every PDF, so umlauts and € print everywhere and no
PDF references a font it does not carry: ``initialFontName`` on the document and ``FONT`` in every table style
(ReportLab falls back to a non-embedded Helvetica otherwise). Labels follow the buyer's language; legal notes
always print in German too. Fonts and styles are built once per process, and so are the fonts' embedded subsets
(``pdf_fonts.py``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from app.i18n import babel_locale, format_money
from app.invoicing.models import CORRECTION, Invoice, InvoiceKind
from app.invoicing.pdf_fonts import EmbeddedFont
from app.invoicing.pdf_text import Labels, labels_for
from app.invoicing.snapshots import berlin_day

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
ACCENT = colors.HexColor("#1F4E79")
STRIPE = colors.HexColor("#EEF3F8")
MUTED = colors.HexColor("#555555")
PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = RIGHT = 20 * mm
FRAME_PADDING = 6  # platypus' default frame padding, in points
CONTENT_LEFT = LEFT + FRAME_PADDING
CONTENT_WIDTH = PAGE_WIDTH - LEFT - RIGHT - 2 * FRAME_PADDING


@lru_cache(maxsize=1)
def register_fonts() -> tuple[EmbeddedFont, ...]:
    fonts = (
        EmbeddedFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")),
        EmbeddedFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")),
    )
    for font in fonts:
        pdfmetrics.registerFont(font)
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
    return fonts


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=13)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "address": ParagraphStyle("address", parent=body, fontSize=10.5, leading=14),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=16, leading=20, spaceAfter=4 * mm),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11),
        "link": ParagraphStyle("link", parent=body, fontSize=7, leading=9, textColor=MUTED),
        "head": ParagraphStyle("head", parent=body, fontName=BOLD, fontSize=8.5, leading=11, textColor=colors.white),
        "head_right": ParagraphStyle(
            "head_right",
            parent=body,
            fontName=BOLD,
            fontSize=8.5,
            leading=11,
            textColor=colors.white,
            alignment=TA_RIGHT,
        ),
        "note": ParagraphStyle("note", parent=body, fontSize=9, leading=12.5),
        "brand": ParagraphStyle("brand", parent=body, fontName=BOLD, fontSize=13, leading=16, textColor=colors.white),
    }


def render_invoice(invoice: Invoice, corrects: Invoice | None = None) -> bytes:
    """The PDF of an issued invoice (naming the one it replaces, if any), or of a credit note with the invoice it
    ``corrects``; the same rows always render the same bytes."""
    register_fonts()
    text = labels_for(invoice.locale)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=LEFT,
        rightMargin=RIGHT,
        topMargin=16 * mm,
        bottomMargin=34 * mm,
        title=f"{text.title(invoice.kind)} {invoice.number}",
        author=invoice.seller["legal_name"],
        initialFontName=REGULAR,
        invariant=1,  # no timestamp or random id in the file: re-rendering gives the same bytes
    )
    doc.build(_story(invoice, text, corrects), canvasmaker=_footer_canvas(invoice, text))
    return buffer.getvalue()


def _story(invoice: Invoice, text: Labels, corrects: Invoice | None) -> list[Flowable]:
    st = styles()
    return [
        _brand(invoice.seller["legal_name"]),
        Spacer(0, 9 * mm),
        Paragraph(_esc(_sender_line(invoice.seller)), st["small"]),
        Spacer(0, 2 * mm),
        _address_and_facts(invoice, text),
        Spacer(0, 12 * mm),
        Paragraph(f"{_esc(text.title(invoice.kind))} {_esc(invoice.number)}", st["title"]),
        Paragraph(_esc(text.intro(invoice.kind)), st["body"]),
        Spacer(0, 5 * mm),
        _lines_table(invoice, text),
        Spacer(0, 4 * mm),
        KeepTogether([_totals_table(invoice, text), Spacer(0, 7 * mm), *_closing(invoice, text, corrects)]),
    ]


def _brand(name: str) -> Table:
    """The seller's name as a wordmark, top right."""
    width = pdfmetrics.stringWidth(name, BOLD, styles()["brand"].fontSize) + 30
    brand = Table([[Paragraph(_esc(name), styles()["brand"])]], colWidths=[min(width, CONTENT_WIDTH)], hAlign="RIGHT")
    brand.setStyle(
        _style(
            ("BACKGROUND", (0, 0), (-1, -1), ACCENT),
            ("ROUNDEDCORNERS", [4, 4, 4, 4]),
            ("TOPPADDING", (0, 0), (-1, -1), 9),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 11),
            ("LEFTPADDING", (0, 0), (-1, -1), 14),
            ("RIGHTPADDING", (0, 0), (-1, -1), 14),
        )
    )
    return brand


def _esc(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sender_line(seller: dict[str, Any]) -> str:
    return " · ".join(part for part in (seller["legal_name"], seller["address_line1"], _city(seller)) if part)


def _city(party: dict[str, Any]) -> str:
    return " ".join(part for part in (party.get("postal_code"), party.get("city")) if part)


def _day(value: date | str, locale: str) -> str:
    day = value if isinstance(value, date) else datetime.fromisoformat(value).date()
    return format_date(day, "dd.MM.yyyy" if locale == "de" else "d MMM yyyy", locale=babel_locale(locale))


def _money(amount: Decimal | str, invoice: Invoice) -> str:
    return format_money(Decimal(amount), invoice.currency, invoice.locale)


def _rate(rate: Decimal | str, locale: str) -> str:
    value = Decimal(rate).normalize()
    return (f"{value:f}".replace(".", ",") if locale == "de" else f"{value:f}") + " %"


def _address_and_facts(invoice: Invoice, text: Labels) -> Table:
    st = styles()
    buyer = invoice.buyer
    lines = [buyer.get("company"), buyer.get("name"), buyer.get("address_line1"), buyer.get("address_line2")]
    lines += [_city(buyer), text.country(buyer["country"]) if buyer["country"] != invoice.seller["country"] else None]
    address = Paragraph("<br/>".join(_esc(line) for line in dict.fromkeys(lines) if line), st["address"])
    facts: list[tuple[str, str]] = [
        (text.number_label(invoice.kind), invoice.number),
        (text.invoice_date, _day(berlin_day(invoice.issued_at), invoice.locale)),
        (text.customer_number, f"K-{buyer['customer_id']:06d}"),
        (text.service_date, _service_period(invoice)),
    ]
    if buyer.get("vat_id"):  # §14a Abs. 1 UStG: reverse charge shows both VAT IDs
        facts.append((text.your_vat_id, buyer["vat_id"]))
        if invoice.seller.get("vat_id"):
            facts.append((text.our_vat_id, invoice.seller["vat_id"]))
    fact_table = Table([list(fact) for fact in facts], colWidths=[33 * mm, 40 * mm])
    fact_table.setStyle(
        _style(
            ("FONT", (0, 0), (0, -1), BOLD, 8.5),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LEFTPADDING", (0, 0), (0, -1), 0),
        )
    )
    outer = Table([[address, fact_table]], colWidths=[CONTENT_WIDTH - 75 * mm, 75 * mm])
    outer.setStyle(_style(("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)))
    return outer


def _service_period(invoice: Invoice) -> str:
    start, end = _day(invoice.service_from, invoice.locale), _day(invoice.service_to, invoice.locale)
    return start if start == end else f"{start} – {end}"


def _style(*commands: tuple[Any, ...]) -> TableStyle:
    return TableStyle([("FONT", (0, 0), (-1, -1), REGULAR, 8.5), *commands])


def _lines_table(invoice: Invoice, text: Labels) -> Table:
    """Plain strings where a cell never wraps (numbers, the head): far cheaper to lay out than paragraphs."""
    st = styles()
    head = [text.position, text.description, text.quantity, text.unit_price, text.vat, text.net_amount]
    rows: list[list[Any]] = [head]
    for line in invoice.lines:
        description = [Paragraph(_esc(line["description"]), st["cell"]), Paragraph(_esc(line["link"]), st["link"])]
        rows.append(
            [
                str(line["position"]),
                description,
                _quantity(line["quantity"], invoice.locale),
                _unit_price(line["unit_price_per_1000"], invoice),
                _rate(line["tax_rate"], invoice.locale),
                _money(line["net"], invoice),
            ]
        )
    table = Table(rows, colWidths=[12 * mm, CONTENT_WIDTH - 104 * mm, 20 * mm, 28 * mm, 14 * mm, 30 * mm], repeatRows=1)
    stripes = [("BACKGROUND", (0, row), (-1, row), STRIPE) for row in range(2, len(rows), 2)]
    table.setStyle(
        _style(
            ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
            ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, 0), 6),
            ("BOTTOMPADDING", (0, 0), (-1, 0), 6),
            ("LINEBELOW", (0, -1), (-1, -1), 0.6, MUTED),
            *stripes,
        )
    )
    return table


def _quantity(quantity: int | None, locale: str) -> str:
    return "–" if quantity is None else f"{quantity:,}".replace(",", "." if locale == "de" else ",")


def _unit_price(per_1000: str | None, invoice: Invoice) -> str:
    return "–" if per_1000 is None else f"{_money(per_1000, invoice)} / 1000"


def _totals_table(invoice: Invoice, text: Labels) -> Table:
    rows: list[list[str]] = [[text.total_net, _money(invoice.net, invoice)]]
    for per_rate in invoice.tax_rates:
        if Decimal(per_rate["rate"]) or Decimal(per_rate["tax"]):
            rows.append([text.vat_at(_rate(per_rate["rate"], invoice.locale)), _money(per_rate["tax"], invoice)])
        else:
            rows.append([text.no_vat, _money(per_rate["tax"], invoice)])
    rows.append([text.total(invoice.kind), _money(invoice.gross, invoice)])
    table = Table(rows, colWidths=[55 * mm, 30 * mm], hAlign="RIGHT")
    table.setStyle(
        _style(
            ("FONT", (0, 0), (-1, -2), REGULAR, 9.5),
            ("FONT", (0, -1), (-1, -1), BOLD, 11),
            ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
            ("TOPPADDING", (0, -1), (-1, -1), 6),
        )
    )
    return table


def _closing(invoice: Invoice, text: Labels, corrects: Invoice | None) -> list[Flowable]:
    st = styles()
    parts: list[Flowable] = []
    if corrects is not None:  # §14 UStG correction: which invoice, of which date (corrected or replaced)
        day = _day(berlin_day(corrects.issued_at), invoice.locale)
        named = (text.corrects if invoice.kind is InvoiceKind.CREDIT_NOTE else text.replaces)(corrects.number, day)
        parts += [Paragraph(f"<b>{_esc(named)}</b>", st["note"]), Spacer(0, 3 * mm)]
    if invoice.legal_note:
        note = f"<b>{_esc(invoice.legal_note)}</b>"
        if invoice.legal_note_translation:
            note += f"<br/>{_esc(invoice.legal_note_translation)}"
        parts += [Paragraph(note, st["note"]), Spacer(0, 3 * mm)]
    paid_at = invoice.payment.get("paid_at")
    if invoice.kind is InvoiceKind.CREDIT_NOTE:
        parts.append(Paragraph(_esc(_settlement(invoice, text)), st["body"]))
    elif paid_at:
        paid = text.paid(invoice.payment.get("method"), _day(paid_at, invoice.locale))
        parts.append(Paragraph(_esc(paid), st["body"]))
    parts.append(Paragraph(_esc(text.thanks), st["body"]))
    return parts


def _settlement(credit_note: Invoice, text: Labels) -> str:
    """How the credited amount reaches the client: refunded, charged back by their bank, or not at all (a
    correction of the document)."""
    if credit_note.dispute_id:
        return text.charged_back
    if credit_note.payment.get("method") == CORRECTION:
        return text.corrected_only
    return text.refunded


def _footer_columns(seller: dict[str, Any], text: Labels) -> list[list[str]]:
    contact = [
        seller["legal_name"],
        f"{seller['address_line1']}, {_city(seller)}",
        seller.get("phone"),
        seller["email"],
    ]
    legal = [
        f"{text.managing_director}: {seller['managing_director']}" if seller.get("managing_director") else None,
        " ".join(p for p in (seller.get("register_court"), seller.get("register_number")) if p) or None,
        f"{text.vat_id}: {seller['vat_id']}" if seller.get("vat_id") else None,
        f"{text.tax_number}: {seller['tax_number']}" if seller.get("tax_number") else None,
    ]
    bank = [
        seller.get("bank_name"),
        f"IBAN: {_grouped(seller['iban'])}" if seller.get("iban") else None,
        f"BIC: {seller['bic']}" if seller.get("bic") else None,
    ]
    return [[line for line in column if line] for column in (contact, legal, bank)]


def _grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _footer_canvas(invoice: Invoice, text: Labels) -> Callable[..., Canvas]:
    columns = _footer_columns(invoice.seller, text)

    class FooterCanvas(Canvas):  # type: ignore[misc] # ReportLab has no type hints
        """Draws the footer once the page count is known ("Page x of y")."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            for font in register_fonts():
                font.seed(self._doc)

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                self._draw_footer(number, len(self._pages))
                super().showPage()
            for page in self._doc.Pages.pages:  # Flate alone: ReportLab's ASCII85 on top only costs time and size
                page.Contents = pdfdoc.PDFStream(content=page.stream, filters=[pdfdoc.PDFZCompress])
            super().save()

        def _draw_footer(self, number: int, pages: int) -> None:
            top = 26 * mm
            self.setStrokeColor(MUTED)
            self.setLineWidth(0.5)
            self.line(CONTENT_LEFT, top + 3 * mm, CONTENT_LEFT + CONTENT_WIDTH, top + 3 * mm)
            self.setFont(REGULAR, 7)
            self.setFillColor(colors.black)
            width = CONTENT_WIDTH / 3
            for index, column in enumerate([*columns[:2], [*columns[2], text.page(number, pages)]]):
                for row, line in enumerate(column):
                    self.drawString(CONTENT_LEFT + index * width, top - row * 3.3 * mm, line)

    return FooterCanvas
