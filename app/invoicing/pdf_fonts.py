"""The invoice's embedded TrueType fonts, whose PDF objects are built once per process instead of once per PDF.

ReportLab embeds in every document a subset of each TrueType font: it cuts the used glyphs out of the font file,
compresses them and lists their widths and Unicode mapping — about a third of an invoice's rendering time. A subset
holds all of ASCII, then the other characters in the order the document first draws them, so the subsets of two
invoices differ as soon as a customer's name brings an umlaut earlier or later. Each document is therefore seeded
with the characters invoices print beyond ASCII, in a fixed order: nearly every invoice then has the same subsets,
whose streams are kept per process. A character outside the seed only makes its subset new: built and kept too.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap

# German, the labels' symbols (en dash, middle dot, §, €), then frequent Western European letters; at most 31
# characters: ReportLab places the first 31 beyond ASCII in codes 1 to 31 of the first subset.
SEED = "äöüÄÖÜß€–·§„“”’éèêàáâçñóôúíëïøå"


@dataclass(frozen=True)
class SubsetStreams:
    """What one subset writes into every PDF: the same bytes each time."""

    base_name: str
    widths: bytes
    to_unicode: bytes
    font_file: bytes
    font_file_length: int


class EmbeddedFont(TTFont):  # type: ignore[misc] # ReportLab has no type hints
    """A TrueType font that keeps the PDF streams of the subsets it has written, and the widths it has measured."""

    @lru_cache(maxsize=4096)  # noqa: B019 - the fonts live as long as the process
    def stringWidth(self, text: str, size: float, encoding: str = "utf8") -> float:
        """Kept per text and size: layout measures the same labels, words and, splitting a long link, the same
        characters again and again."""
        return float(super().stringWidth(text, size, encoding))

    def seed(self, doc: Any) -> None:
        """Assign the seed characters their codes in ``doc`` before anything is drawn."""
        self.splitString(SEED, doc)

    def addObjects(self, doc: Any) -> None:
        """ReportLab's ``TTFont.addObjects``, with each subset's streams taken from the process' cache."""
        state = self.state[doc]
        state.frozen = 1
        fonts = doc.idToObject["BasicFonts"].dict
        for index, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(index, doc)[1:]
            streams = self._streams(index, tuple(subset))
            font = pdfdoc.PDFTrueTypeFont()
            font.Name = internal_name
            font.BaseFont = streams.base_name
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = streams.widths
            font.ToUnicode = doc.Reference(_deflated(streams.to_unicode), f"toUnicodeCMap:{streams.base_name}")
            font.FontDescriptor = self._descriptor(doc, streams)
            doc.Reference(font, internal_name)
            fonts[internal_name] = font
        del self.state[doc]

    @lru_cache(maxsize=64)  # noqa: B019 - the fonts live as long as the process
    def _streams(self, index: int, subset: tuple[int, ...]) -> SubsetStreams:
        face = self.face
        base_name = b"".join((SUBSETN(index), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
        font_file = face.makeSubset(list(subset))
        widths = pdfdoc.PDFArray([face.getCharWidth(code) for code in subset]).format(pdfdoc.DummyDoc())
        return SubsetStreams(
            base_name=base_name,
            widths=widths,
            to_unicode=zlib.compress(makeToUnicodeCMap(base_name, subset).encode()),
            font_file=zlib.compress(font_file),
            font_file_length=len(font_file),
        )

    def _descriptor(self, doc: Any, streams: SubsetStreams) -> Any:
        """The subset's FontDescriptor with its font file, as ``TTFontFace.addSubsetObjects`` writes it."""
        face = self.face
        font_file = _deflated(streams.font_file)
        font_file.dictionary["Length1"] = streams.font_file_length
        descriptor = pdfdoc.PDFDictionary(
            {
                "Type": "/FontDescriptor",
                "Ascent": face.ascent,
                "CapHeight": face.capHeight,
                "Descent": face.descent,
                "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                "FontBBox": pdfdoc.PDFArray(face.bbox),
                "FontName": pdfdoc.PDFName(streams.base_name),
                "ItalicAngle": face.italicAngle,
                "StemV": face.stemV,
                "FontFile2": doc.Reference(font_file, f"fontFile:{face.filename}({streams.base_name})"),
                "MissingWidth": face.defaultWidth,
            }
        )
        return doc.Reference(descriptor, f"fontDescriptor:{streams.base_name}")


def _deflated(content: bytes) -> Any:
    """A stream of already compressed content: ReportLab compresses only streams without a filter."""
    stream = pdfdoc.PDFStream(content=content)
    stream.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    return stream
