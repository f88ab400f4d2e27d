"""Reports as files, and from the command line: the files read back to the same figures; bad input is refused."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from app.i18n import translations
from reports.catalog import REPORTS
from reports.export import FileFormat, report_file
from reports.periods import DateRange, Grouping
from reports.revenue import Selection
from tests.integration.reports.conftest import History
from tests.integration.system.test_cli import smplat
from tests.unit.test_invoice_pdf import text_of

Q4 = DateRange(date(2026, 10, 1), date(2026, 12, 31))


async def _monthly(history: History) -> pl.DataFrame:
    return await REPORTS["revenue"].build(history.session, Selection(Q4, Grouping.MONTH), str)


async def test_csv_and_parquet_read_back_to_the_same_frame(history: History) -> None:
    frame = await _monthly(history)
    parquet = pl.read_parquet(io.BytesIO(report_file(frame, FileFormat.PARQUET, title="Revenue")))
    assert parquet.equals(frame)
    csv = pl.read_csv(report_file(frame, FileFormat.CSV, title="Revenue"), schema=frame.schema)
    assert csv.equals(frame)


async def test_csv_for_german_excel_uses_semicolons_and_decimal_commas(history: History) -> None:
    frame = await _monthly(history)
    text = report_file(frame, FileFormat.CSV, title="Revenue", german_excel=True).decode()
    november = next(line for line in text.splitlines() if line.startswith("2026-11;EUR"))
    assert november.split(";")[2:6] == ["2", "30,00", "5,70", "35,70"]


async def test_xlsx_has_translated_titles_and_a_total_per_currency(history: History) -> None:
    german = translations("de").gettext
    frame = await _monthly(history)
    content = report_file(frame, FileFormat.XLSX, title=german("Revenue"), translate=german)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert 'name="Umsatz"' in workbook
    assert "Netto nach Erstattungen" in strings
    assert strings.count("<t>Gesamt</t>") == 1  # the shared string, used by both totals rows
    # Data rows 2-7 (three months for EUR and USD), totals in rows 8 (EUR) and 9 (USD): EUR net 10 + 30 + 0.
    assert '<c r="D8" s="' in sheet
    assert "<v>40</v>" in sheet.split('<row r="8"')[1].split("</row>")[0]


async def test_pdf_has_period_summary_chart_and_table_in_german(history: History) -> None:
    german = translations("de").gettext
    frame = await _monthly(history)
    selection = Selection(Q4, Grouping.MONTH, "de")
    content = report_file(
        frame, FileFormat.PDF, title=german("Revenue"), translate=german, selection=selection, report="revenue"
    )
    text = text_of(content)
    assert "Umsatz" in text
    assert "Zeitraum: 01.10.2026 – 31.12.2026" in text
    # The summary: six rows (three months, two currencies); EUR net 10 + 30 + 0, refunds 5 + 1, USD net 10.
    assert "Zeilen 6" in text
    assert "Netto (EUR) 40,00 €" in text
    assert "Netto nach Erstattungen (EUR) 34,00 €" in text
    assert "Netto (USD) 10,00 $" in text
    assert "Netto nach Erstattungen (EUR) pro Zeitraum" in text  # the chart's caption
    assert "2026-11 EUR 2 30,00 5,70 35,70" in text  # a table row, numbers as German writes them


async def test_pdf_of_a_split_has_no_chart_and_english_numbers(history: History) -> None:
    frame = await REPORTS["revenue-by-category"].build(history.session, Selection(Q4, None), str)
    content = report_file(frame, FileFormat.PDF, title="Revenue by category", selection=Selection(Q4, None))
    text = text_of(content)
    assert "Period: 1 Oct 2026 – 31 Dec 2026" in text
    assert "per period" not in text
    assert "Net after refunds (EUR) €34.00" in text


async def test_pdf_of_a_split_by_month_stacks_its_chart_with_a_legend(history: History) -> None:
    selection = Selection(Q4, Grouping.MONTH)
    frame = await REPORTS["revenue-by-category"].build(history.session, selection, str)
    content = report_file(
        frame, FileFormat.PDF, title="Revenue by category", selection=selection, report="revenue-by-category"
    )
    text = text_of(content)
    assert "Net after refunds (EUR) per period, by Category" in text
    assert "■ Growth ■ Engagement ■ whole order" in text


async def test_pdf_of_cohort_retention_draws_its_heat_map(history: History) -> None:
    autumn = Selection(DateRange(date(2026, 10, 1), date(2026, 11, 30)), None)
    frame = await REPORTS["cohort-retention"].build(history.session, autumn, str)
    text = text_of(report_file(frame, FileFormat.PDF, title="Cohorts", selection=autumn, report="cohort-retention"))
    assert "Share of each cohort buying again, by months since the first order" in text
    assert "+0 +1 +2" in text
    assert "Columns: months since the first paid order" in text


async def test_pdf_of_an_empty_report_says_so(history: History) -> None:
    empty = Selection(DateRange(date(2020, 1, 1), date(2020, 1, 31)), None)
    frame = await REPORTS["revenue-by-category"].build(history.session, empty, str)
    assert frame.is_empty()
    text = text_of(report_file(frame, FileFormat.PDF, title="Revenue by category", selection=empty))
    assert "Rows 0" in text
    assert "Nothing was sold or refunded in this period." in text


async def test_tax_report_splits_by_treatment_and_rate(history: History) -> None:
    frame = await REPORTS["tax"].build(history.session, Selection(Q4, None), str)
    euro = frame.filter(pl.col("currency") == "EUR")
    assert euro.select("tax_treatment", "tax_rate", "net", "vat", "refunds_net").rows() == [
        ("domestic", "19.00", Decimal("40.00"), Decimal("7.60"), Decimal("6.00"))
    ]


async def test_oss_report_holds_only_one_stop_shop_sales(history: History) -> None:
    frame = await REPORTS["oss"].build(history.session, Selection(Q4, Grouping.QUARTER), str)
    assert frame.is_empty()


def test_command_line_writes_the_report(history: History, tmp_path: Path) -> None:
    out = tmp_path / "revenue.csv"
    result = smplat(
        "report",
        "revenue",
        "--from",
        "2026-10-01",
        "--to",
        "2026-12-31",
        "--by",
        "month",
        "--out",
        str(out),
        database_url=history.database_url,
    )
    assert result.returncode == 0, result.stderr
    frame = pl.read_csv(out)
    assert frame.filter(pl.col("currency") == "EUR")["period"].to_list() == ["2026-10", "2026-11", "2026-12"]


def test_command_line_writes_a_pdf(history: History, tmp_path: Path) -> None:
    out = tmp_path / "revenue.pdf"
    args = ("--from", "2026-10-01", "--to", "2026-12-31", "--format", "pdf", "--lang", "de", "--out", str(out))
    result = smplat("report", "revenue", *args, database_url=history.database_url)
    assert result.returncode == 0, result.stderr
    assert "Netto nach Erstattungen (EUR) 34,00 €" in text_of(out.read_bytes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nonsense", "--from", "2026-01-01", "--to", "2026-01-31"), "unknown report 'nonsense'"),
        (("revenue", "--from", "2026-13-01", "--to", "2026-01-31"), "--from '2026-13-01' is not a date"),
        (("revenue", "--from", "2026-02-01", "--to", "2026-01-31"), "ends (2026-01-31) before it starts"),
        (("revenue", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "doc"), "Invalid value for '--format'"),
    ],
)
def test_command_line_refuses_bad_input_in_one_line(
    clean_db: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = smplat("report", *args, "--out", str(tmp_path / "out"), database_url=clean_db)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
