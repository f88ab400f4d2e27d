"""Small validators shared by domains: email addresses, VAT IDs, countries, locales, currencies, column limits."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from babel.numbers import list_currencies
from email_validator import EmailNotValidError, validate_email
from stdnum import vatin
from stdnum.exceptions import ValidationError as StdnumValidationError

from app.i18n import N_, Message, message

LOCALES = ("de", "en")
MAX_ID = 2**63 - 1  # PostgreSQL bigint

# ISO 3166-1 alpha-2 codes of the EU member states (VAT territory).
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


def normalise_email(raw: str) -> str:
    """Lower-cased, syntax-checked address; raises ValueError with a readable reason."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return result.normalized.lower()


def normalise_vat_id(raw: str) -> str:
    """A VAT ID in its compact form (e.g. ``DE123456788``), format and check digits verified."""
    try:
        return str(vatin.validate(raw))
    except StdnumValidationError as exc:
        raise ValueError(f"not a valid VAT ID ({exc})") from exc


def normalise_country(raw: str) -> str:
    code = raw.strip().upper()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise ValueError("use a two-letter country code such as DE")
    return code


def normalise_locale(raw: str) -> str:
    code = raw.strip().lower()
    if code not in LOCALES:
        raise ValueError("must be de or en")
    return code


def parse_id(text: str) -> int | None:
    """An id from user input, or None when it cannot name a row (``abc``, ``²``, beyond bigint)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        return None
    return int(text)


# -- currencies and web addresses ------------------------------------------------------------------------------

# What services are priced and charged in (Stripe settles all four; the storefront formats them in de and en).
SALE_CURRENCIES = ("EUR", "USD", "GBP", "CHF")


@lru_cache(maxsize=1)
def iso_currencies() -> frozenset[str]:
    """ISO 4217 codes that babel (CLDR) knows: what a provider may bill in."""
    return frozenset(list_currencies())


def normalise_currency(raw: str, allowed: Collection[str] | None = None) -> str:
    """An upper-case ISO 4217 code, from ``allowed`` when given (else any code CLDR knows)."""
    code = raw.strip().upper()
    if code not in (allowed if allowed is not None else iso_currencies()):
        raise ValueError(code)
    return code


def normalise_web_url(raw: str) -> str:
    """An http(s) address with a host; anything else (``javascript:``, ``data:``, bare words) is refused."""
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(ch.isspace() for ch in url):
        raise ValueError(url)
    return url


# -- column limits ---------------------------------------------------------------------------------------------

# Free text (descriptions, notes): long enough for any real text, short enough for pages, exports and invoices.
MAX_TEXT_LENGTH = 5000
INTEGER_RANGES = {
    sa.SmallInteger: (-(2**15), 2**15 - 1),
    sa.BigInteger: (-(2**63), 2**63 - 1),
    sa.Integer: (-(2**31), 2**31 - 1),
}


def _integer_range(column_type: sa.types.TypeEngine[Any]) -> tuple[int, int] | None:
    for kind, bounds in INTEGER_RANGES.items():  # SmallInteger and BigInteger before their base Integer
        if isinstance(column_type, kind):
            return bounds
    return None


def column_errors(model: type[Any], values: Mapping[str, Any]) -> dict[str, Message]:
    """Field errors for values the table's column types cannot hold, found before the database would refuse them.

    Text must not contain NUL and must fit the column's length (free text: ``MAX_TEXT_LENGTH``); integers must
    fit their column; decimals must be finite, with no more places than the column keeps and no more digits
    before the point than it allows; a required column must not be set to nothing.
    """
    columns = sa.inspect(model).columns
    errors: dict[str, Message] = {}
    for key, value in values.items():
        column = columns.get(key)
        if column is None:
            continue
        problem = _column_problem(column, value)
        if problem is not None:
            errors[key] = problem
    return errors


def _column_problem(column: sa.Column[Any], value: Any) -> Message | None:
    column_type = column.type
    if value is None:
        if not column.nullable and column.server_default is None and column.default is None:
            return message(N_("is required"))
        return None
    if isinstance(value, str):
        if "\x00" in value:
            return message(N_("must not contain NUL characters"))
        if isinstance(column_type, sa.Enum):
            return None if value in column_type.enums else message(N_("is not one of the choices"))
        limit = getattr(column_type, "length", None) or (MAX_TEXT_LENGTH if isinstance(column_type, sa.Text) else None)
        if limit is not None and len(value) > limit:
            return message(N_("must be at most %(max)s characters long"), max=limit)
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and (bounds := _integer_range(column_type)) is not None:
        low, high = bounds
        if not low <= value <= high:
            return message(N_("must be between %(min)s and %(max)s"), min=low, max=high)
        return None
    if isinstance(value, Decimal) and isinstance(column_type, sa.Numeric):
        return decimal_problem(value, column_type.precision, column_type.scale)
    return None


def decimal_problem(value: Decimal, precision: int | None, scale: int | None) -> Message | None:
    """Why a NUMERIC(precision, scale) column cannot hold ``value`` as given (None when it can)."""
    if not value.is_finite():
        return message(N_("must be a number"))
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if scale is not None and places > scale:
        return message(N_("must have at most %(places)s decimal places"), places=scale)
    if precision is not None and abs(value) >= Decimal(10) ** (precision - (scale or 0)):
        return message(
            N_("must have at most %(digits)s digits before the decimal point"), digits=precision - (scale or 0)
        )
    return None
