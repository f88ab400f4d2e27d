"""Days and months typed on German pages (31.01.2026, 10.2026) and sent by pickers (2026-01-31, 2026-10) are read
the same way."""

from __future__ import annotations

from datetime import date

import pytest

from admin.listing import DateRangeFilter
from app.date_input import day_input_value, format_day_input, iso_month, month_input_value, parse_day_input


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("31.01.2026", date(2026, 1, 31)),
        ("1.2.2026", date(2026, 2, 1)),
        (" 29.02.2024 ", date(2024, 2, 29)),
        ("2026-01-31", date(2026, 1, 31)),
    ],
)
def test_german_and_iso_days_are_read(typed, day):
    assert parse_day_input(typed) == day


@pytest.mark.parametrize(
    "typed", ["31.02.2026", "01/31/2026", "31.01.26", "2026-1-31", "31.01.2026x", "", "heute", "0.1.2026"]
)
def test_anything_else_is_refused(typed):
    with pytest.raises(ValueError, match=r"day|month"):
        parse_day_input(typed)


def test_a_day_shows_in_the_pages_spelling():
    assert format_day_input(date(2026, 1, 31), "de") == "31.01.2026"
    assert format_day_input(date(2026, 1, 31), "en") == "2026-01-31"
    assert day_input_value("2026-01-31", "de") == "31.01.2026"
    assert day_input_value("31.01.2026", "en") == "2026-01-31"
    assert day_input_value("31.13.2026", "de") == "31.13.2026"  # shown as typed, to be corrected
    assert day_input_value(None, "de") == ""


def test_list_date_filters_read_german_days():
    dates = DateRangeFilter.__new__(DateRangeFilter)

    assert dates.bounds("1.12.2026..24.12.2026") == (date(2026, 12, 1), date(2026, 12, 24))
    assert dates.bounds("..24.12.2026") == (None, date(2026, 12, 24))
    assert dates.bounds("01.12.2026..2026-12-24") == (date(2026, 12, 1), date(2026, 12, 24))
    assert dates.bounds("31.02.2026..") is None


@pytest.mark.parametrize(("typed", "month"), [("10.2026", "2026-10"), ("1.2026", "2026-01"), ("2026-10", "2026-10")])
def test_german_and_iso_months_are_read(typed, month):
    assert iso_month(typed) == month


@pytest.mark.parametrize("typed", ["13.2026", "0.2026", "2026-13", "Oktober 2026", "10/2026", ""])
def test_anything_else_is_not_a_month(typed):
    with pytest.raises(ValueError, match="not a month"):
        iso_month(typed)


def test_a_month_shows_in_the_pages_spelling():
    assert month_input_value("2026-10", "de") == "10.2026"
    assert month_input_value("10.2026", "en") == "2026-10"
    assert month_input_value("Oktober", "de") == "Oktober"
