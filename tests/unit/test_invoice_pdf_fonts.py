"""The invoice's embedded fonts: subsets seeded so that invoices share them, their streams kept per process."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFont

from app.invoicing.pdf import REGULAR, register_fonts, render_invoice
from app.invoicing.pdf_fonts import SEED, EmbeddedFont
from tests.unit.invoice_samples import BUYER, sample_invoice
from tests.unit.test_invoice_pdf import fonts_of, text_of


def font_files(pdf: bytes) -> dict[str, bytes]:
    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()
    return {
        str(font["/BaseFont"]): font["/FontDescriptor"]["/FontFile2"].get_object().get_data()
        for font in (font.get_object() for font in fonts)
    }


def test_the_seed_fits_the_31_codes_reportlab_gives_characters_beyond_ascii_first():
    assert len(SEED) == len(set(SEED)) <= 31
    assert all(ord(char) > 127 for char in SEED)


def test_buyers_bringing_umlauts_in_another_order_get_the_same_embedded_font_files():
    first = sample_invoice(buyer=BUYER | {"name": "Jörg Müller", "company": None, "city": "Köln"})
    second = sample_invoice(buyer=BUYER | {"name": "Ülrike Äbele", "company": None, "city": "Düsseldorf"})

    first_pdf, second_pdf = render_invoice(first), render_invoice(second)

    assert "Jörg Müller" in text_of(first_pdf)
    assert "Ülrike Äbele" in text_of(second_pdf)
    assert font_files(first_pdf) == font_files(second_pdf)


def test_a_character_beyond_the_seed_prints_in_an_embedded_font():
    pdf = render_invoice(sample_invoice(buyer=BUYER | {"name": "Łukasz Wójcik", "company": "Żabka Sp. z o.o."}))

    assert "Żabka Sp. z o.o. Łukasz Wójcik" in text_of(pdf)
    assert fonts_of(pdf) == {"/AAAAAA+DejaVuSans", "/AAAAAA+DejaVuSans-Bold"}


def test_the_kept_font_objects_are_the_bytes_reportlab_itself_writes(monkeypatch: pytest.MonkeyPatch):
    invoice = sample_invoice(buyer=BUYER | {"name": "Łukasz Wójcik"})
    kept = render_invoice(invoice)

    monkeypatch.setattr(EmbeddedFont, "addObjects", TTFont.addObjects)

    assert render_invoice(invoice) == kept


@pytest.mark.parametrize(
    "text", ["Rechnungsbetrag", "Łukasz Wójcik", "h", "https://www.instagram.com/baeckerei_schaefer_1/"]
)
def test_a_kept_width_is_the_width_reportlab_measures(text: str):
    font = next(font for font in register_fonts() if font.fontName == REGULAR)

    assert font.stringWidth(text, 8.5) == font.stringWidth(text, 8.5) == TTFont.stringWidth(font, text, 8.5)
