"""Small validators shared by domains: email addresses, VAT IDs, countries, locales."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from stdnum import vatin
from stdnum.exceptions import ValidationError as StdnumValidationError

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
