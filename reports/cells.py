"""How one value becomes one cell of an exported file (CSV, XLSX): the back office's list exports and the reports.

- NULL is an empty cell, never ``None``.
- Numbers stay numbers: whether a cell is a number is decided by the value's type, never by its text, so a
  negative refund is ``-5.00`` and not a formula, while the *text* ``-5+A1`` is neutralised.
- Text that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, TAB or CR; the
  OWASP "CSV injection" rule) gets a leading single quote, which spreadsheets show as text.
- Times are Europe/Berlin wall-clock time to the second; dates stay dates.
- A state (or any other enum) reads as its label, in the language of ``translate``.
- JSON values (dicts, lists) are written as JSON text.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from babel.numbers import format_decimal

from app import states
from app.i18n import BERLIN, Message, Translate, babel_locale, untranslated

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# What a cell holds once the rule has run: a writer formats these and nothing else.
Cell = str | bool | int | float | Decimal | datetime | date | None


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a formula it runs."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def berlin_time(moment: datetime) -> datetime:
    """Berlin wall-clock time without zone and microseconds (an aware time is converted, a naive one kept)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(BERLIN).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def cell(value: object, translate: Translate = untranslated) -> Cell:
    """The typed cell for ``value``; every text that leaves here has been neutralised."""
    if value is None:
        return None
    if isinstance(value, Enum):  # before str and int: a StrEnum is a str, an IntEnum an int
        return neutralise(states.label(value).render(translate))
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value if _finite(value) else neutralise(str(value))
    if isinstance(value, datetime):
        return berlin_time(value)
    if isinstance(value, date):
        return value
    if isinstance(value, Message):
        return neutralise(value.render(translate))
    if isinstance(value, dict | list):
        return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
    return neutralise(str(value))


def _finite(number: int | float | Decimal) -> bool:
    """NaN and infinities are no numbers a spreadsheet can hold: they go out as (neutralised) text."""
    if isinstance(number, Decimal):
        return number.is_finite()
    return isinstance(number, int) or math.isfinite(number)


def cell_text(value: Cell) -> str:
    """A cell as CSV text: plain numbers with a decimal point, ISO dates, empty for NULL."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_cell(value: object, translate: Translate = untranslated) -> str:
    return cell_text(cell(value, translate))


def display_text(value: object, locale: str) -> str:
    """A report cell for people (admin page, PDF) in ``locale``: decimals with exactly the places they carry
    (money 2), grouped thousands, a dash for nothing."""
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        places = max(0, -int(value.as_tuple().exponent))
        pattern = "#,##0." + "0" * places if places else "#,##0"
        return format_decimal(value, format=pattern, locale=babel_locale(locale))
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=babel_locale(locale))
    return str(value)
