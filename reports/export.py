"""A report's DataFrame as a file: CSV (plain or for German Excel), XLSX with totals, Parquet, or PDF.

CSV and Parquet keep the report's column names (stable for whoever reads them by program); XLSX and PDF are for
people: translated column titles, typed or formatted cells and totals per currency.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from enum import StrEnum

import polars as pl

from app.i18n import Translate, untranslated
from app.uow import utc_now
from reports.columns import COLUMN_TITLES, totals
from reports.files import csv_bytes, xlsx_bytes
from reports.pdf import report_pdf
from reports.revenue import Selection


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"
    PDF = "pdf"


CONTENT_TYPES = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileFormat.PARQUET: "application/vnd.apache.parquet",
    FileFormat.PDF: "application/pdf",
}


def report_file(
    frame: pl.DataFrame,
    file_format: FileFormat,
    *,
    title: str,
    translate: Translate = untranslated,
    german_excel: bool = False,
    selection: Selection | None = None,
    report: str = "",
) -> bytes:
    """``selection`` (what the report was asked for) heads the PDF, which needs it: its period and the language
    its numbers are written in; ``report``, the report's name in ``reports.catalog``, picks the PDF's chart."""
    if file_format is FileFormat.PDF:
        if selection is None:
            raise ValueError("a PDF report needs the selection it was made for")
        return report_pdf(
            frame,
            title=title,
            period=selection.period,
            report=report,
            generated_at=utc_now(),
            translate=translate,
            locale=selection.locale,
        )
    if file_format is FileFormat.PARQUET:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue()
    rows: Sequence[Sequence[object]] = frame.rows()
    if file_format is FileFormat.CSV:
        return csv_bytes(frame.columns, rows, translate, german_excel=german_excel)
    header = [translate(COLUMN_TITLES.get(name, name)) for name in frame.columns]
    return xlsx_bytes(header, rows, translate, title=title, totals=totals(frame, translate))
