"""Reading back the XLSX files the product writes, without a spreadsheet library."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree


def xlsx_cells(content: bytes) -> tuple[list[list[tuple[str, str | None]]], str]:
    """(rows of (type, value) per cell, the sheet XML) read back from an XLSX file without a spreadsheet library."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
        names = archive.namelist()
        shared = (
            [
                "".join(t.itertext())
                for t in ElementTree.fromstring(archive.read("xl/sharedStrings.xml")).iterfind("m:si", ns)
            ]
            if "xl/sharedStrings.xml" in names
            else []
        )
    rows = []
    for row in ElementTree.fromstring(sheet_xml).iterfind(".//m:row", ns):
        cells = []
        for c in row.iterfind("m:c", ns):
            kind = c.get("t", "n")
            value = c.findtext("m:v", namespaces=ns)
            cells.append(("s", shared[int(value)]) if kind == "s" and value is not None else (kind, value))
        rows.append(cells)
    return rows, sheet_xml
