"""Tables as files, CSV and XLSX, with every cell (the header too) through the one rule of ``reports.cells``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter

from app.i18n import Translate, untranslated
from reports.cells import Cell, cell, cell_text, csv_cell

SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")
EXCEL_FIRST_YEAR = 1900


def csv_bytes(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    translate: Translate = untranslated,
    *,
    german_excel: bool = False,
) -> bytes:
    """UTF-8 CSV (RFC 4180: commas, CRLF, quotes where needed), numbers with a decimal point.

    ``german_excel``: semicolons between cells and a decimal comma, as German Excel opens a CSV by double-click.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if german_excel else ",", lineterminator="\r\n")
    writer.writerow([csv_cell(title, translate) for title in header])
    for row in rows:
        writer.writerow([_csv_text(value, translate, german_excel=german_excel) for value in row])
    return buffer.getvalue().encode("utf-8")


def _csv_text(value: object, translate: Translate, *, german_excel: bool) -> str:
    text = csv_cell(value, translate)
    if german_excel and isinstance(value, Decimal | float) and not isinstance(cell(value), str):
        return text.replace(".", ",")
    return text


def sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    name = SHEET_NAME_UNSAFE.sub(" ", title).strip().strip("'")[:31].strip()
    return name or "Export"


def xlsx_bytes(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    translate: Translate = untranslated,
    *,
    title: str = "Export",
    totals: Sequence[Sequence[object]] = (),
) -> bytes:
    """One worksheet with a bold, frozen header row and a filter; typed cells (numbers, times, booleans, text);
    ``totals`` as bold rows below the data.

    Every string is written as a string (never as a formula, number or link, whatever its text), after the cell
    rule has neutralised it for the case that someone saves the sheet as CSV again.
    """
    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(buffer, options)
    sheet = workbook.add_worksheet(sheet_name(title))
    writer = _CellWriter(workbook, sheet)
    bold = workbook.add_format({"bold": True})
    for column, heading in enumerate(header):
        sheet.write_string(0, column, cell_text(cell(heading, translate)), bold)
    last_row = 0
    for last_row, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            writer.write(last_row, column, cell(value, translate))
    sheet.freeze_panes(1, 0)
    if header:
        sheet.autofilter(0, 0, last_row, len(header) - 1)
        sheet.set_column(0, len(header) - 1, 18)
    writer.bold = True
    for total_row, row in enumerate(totals, start=last_row + 1):
        for column, value in enumerate(row):
            writer.write(total_row, column, cell(value, translate))
    workbook.close()
    return buffer.getvalue()


class _CellWriter:
    """Writes a typed cell with the matching XLSX type and number format."""

    def __init__(self, workbook: Any, sheet: Any) -> None:
        self.workbook = workbook
        self.sheet = sheet
        self.formats: dict[tuple[str, bool], Any] = {}
        self.bold = False

    def format(self, pattern: str) -> Any:
        key = (pattern, self.bold)
        if key not in self.formats:
            self.formats[key] = self.workbook.add_format({"num_format": pattern, "bold": self.bold})
        return self.formats[key]

    def write(self, row: int, column: int, value: Cell) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            self.sheet.write_boolean(row, column, value)
        elif isinstance(value, Decimal):
            places = max(0, -int(value.as_tuple().exponent))
            self.sheet.write_number(row, column, float(value), self.format("0." + "0" * places if places else "0"))
        elif isinstance(value, int | float):
            self.sheet.write_number(row, column, value, self.format("General"))
        elif isinstance(value, datetime | date) and value.year < EXCEL_FIRST_YEAR:
            self.sheet.write_string(row, column, cell_text(value), self.format("General"))  # Excel starts in 1900
        elif isinstance(value, datetime):
            self.sheet.write_datetime(row, column, value, self.format("yyyy-mm-dd hh:mm:ss"))
        elif isinstance(value, date):
            self.sheet.write_datetime(row, column, value, self.format("yyyy-mm-dd"))
        else:
            self.sheet.write_string(row, column, value, self.format("General"))
