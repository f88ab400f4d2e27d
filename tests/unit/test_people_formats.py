"""One formatter for what staff read: money by babel in both languages, numbers with thousand separators,
timestamps in Berlin time without microseconds, days as the language writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from app.i18n import format_date, format_datetime, format_money, format_number


def test_money_is_written_as_each_language_writes_it():
    assert format_money(Decimal("1234.9"), "EUR", "de") == "1.234,90\xa0€"
    assert format_money(Decimal("1234.9"), "EUR", "en") == "€1,234.90"
    assert format_money(None, "EUR", "de") == "–"


def test_numbers_have_thousand_separators():
    assert format_number(1234567, "de") == "1.234.567"
    assert format_number(1234567, "en") == "1,234,567"


def test_a_timestamp_is_berlin_time_without_microseconds():
    moment = datetime(2026, 7, 1, 10, 5, 7, 123456, tzinfo=UTC)  # summer: Berlin is UTC+2
    assert format_datetime(moment, "de", "short") == "01.07.26, 12:05"
    assert format_datetime(moment, "en", "medium") == "1 Jul 2026, 12:05:07"
    assert "123456" not in format_datetime(moment, "de", "medium")


def test_a_day_is_written_as_each_language_writes_it():
    assert format_date(date(2026, 11, 1), "de") == "01.11.2026"
    assert format_date(date(2026, 11, 1), "en") == "1 Nov 2026"
    assert format_date(None, "de") == "–"
