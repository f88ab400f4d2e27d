"""Countries and the EU standard VAT rates, versioned by the date a rate took effect.

The rate that applies is the one in force on the date of supply (Art. 63 MwStSystRL; §13 Abs. 1 UStG), so
orders and invoices look rates up by that date, never by "today".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale

from app.errors import DomainError
from app.i18n import N_
from app.validation import EU_COUNTRIES

__all__ = [
    "EU_COUNTRIES",
    "EU_STANDARD_RATES",
    "GERMANY",
    "NoVatRate",
    "UnknownCountry",
    "VatRate",
    "country_code",
    "eu_standard_rate",
    "vat_id_prefix",
    "vat_territory",
]

GERMANY = "DE"


class UnknownCountry(DomainError, ValueError):
    code = "unknown_country"
    title = N_("Unknown country")


class NoVatRate(DomainError, LookupError):
    code = "no_vat_rate"
    title = N_("No VAT rate")


@dataclass(frozen=True, slots=True)
class VatRate:
    country: str  # ISO 3166-1 alpha-2 (Greece is GR here, EL only in VAT IDs)
    rate: Decimal  # percent
    valid_from: date


def _rates(country: str, *history: tuple[str, date]) -> tuple[VatRate, ...]:
    return tuple(VatRate(country, Decimal(rate), valid_from) for rate, valid_from in history)


# Standard rates of the 27 member states; each entry holds from ``valid_from`` until the next entry of its country.
# A country's first entry is the rate in force since before 2020, with the date it took effect; earlier dates have
# no rate here (no supply of ours is that old).
# Sources: European Commission, "VAT rates applied in the Member States of the European Union" (published at
# taxation-customs.ec.europa.eu, situation at 1 January 2025); changes since then and into 2026 checked against
# easytax.co "EU: new VAT rates from 2026" (no standard-rate change on 1 Jan 2026). Changes since 2020:
# DE 16 % from 1 Jul to 31 Dec 2020 (§28 Abs. 1 UStG, Zweites Corona-Steuerhilfegesetz); IE 21 % from 1 Sep 2020
# to 28 Feb 2021 (Finance Act 2020); LU 16 % during 2023; EE 22 % from 1 Jan 2024, 24 % from 1 Jul 2025;
# FI 25.5 % from 1 Sep 2024 (vero.fi); SK 23 % from 1 Jan 2025; RO 21 % from 1 Aug 2025 (Legea 141/2025).
# Older dates: Avalara VATlive, "EU VAT rates" history. Review every January and whenever a member state
# announces a change: add an entry, never edit one (issued invoices were computed from it).
EU_STANDARD_RATES: tuple[VatRate, ...] = (
    *_rates("AT", ("20.00", date(1984, 1, 1))),
    *_rates("BE", ("21.00", date(1996, 1, 1))),
    *_rates("BG", ("20.00", date(1999, 1, 1))),
    *_rates("CY", ("19.00", date(2014, 1, 13))),
    *_rates("CZ", ("21.00", date(2013, 1, 1))),
    *_rates("DE", ("19.00", date(2007, 1, 1)), ("16.00", date(2020, 7, 1)), ("19.00", date(2021, 1, 1))),
    *_rates("DK", ("25.00", date(1992, 1, 1))),
    *_rates("EE", ("20.00", date(2009, 7, 1)), ("22.00", date(2024, 1, 1)), ("24.00", date(2025, 7, 1))),
    *_rates("ES", ("21.00", date(2012, 9, 1))),
    *_rates("FI", ("24.00", date(2013, 1, 1)), ("25.50", date(2024, 9, 1))),
    *_rates("FR", ("20.00", date(2014, 1, 1))),
    *_rates("GR", ("24.00", date(2016, 6, 1))),
    *_rates("HR", ("25.00", date(2012, 3, 1))),
    *_rates("HU", ("27.00", date(2012, 1, 1))),
    *_rates("IE", ("23.00", date(2012, 1, 1)), ("21.00", date(2020, 9, 1)), ("23.00", date(2021, 3, 1))),
    *_rates("IT", ("22.00", date(2013, 10, 1))),
    *_rates("LT", ("21.00", date(2009, 9, 1))),
    *_rates("LU", ("17.00", date(2015, 1, 1)), ("16.00", date(2023, 1, 1)), ("17.00", date(2024, 1, 1))),
    *_rates("LV", ("21.00", date(2012, 7, 1))),
    *_rates("MT", ("18.00", date(2004, 1, 1))),
    *_rates("NL", ("21.00", date(2012, 10, 1))),
    *_rates("PL", ("23.00", date(2011, 1, 1))),
    *_rates("PT", ("23.00", date(2011, 1, 1))),
    *_rates("RO", ("19.00", date(2017, 1, 1)), ("21.00", date(2025, 8, 1))),
    *_rates("SE", ("25.00", date(1990, 7, 1))),
    *_rates("SI", ("22.00", date(2013, 7, 1))),
    *_rates("SK", ("20.00", date(2011, 1, 1)), ("23.00", date(2025, 1, 1))),
)


@lru_cache(maxsize=1)
def _history() -> dict[str, tuple[VatRate, ...]]:
    """Each member state's entries, newest first."""
    by_country: dict[str, list[VatRate]] = {}
    for entry in EU_STANDARD_RATES:
        by_country.setdefault(entry.country, []).append(entry)
    return {
        country: tuple(sorted(entries, key=lambda e: e.valid_from, reverse=True))
        for country, entries in by_country.items()
    }


def eu_standard_rate(country: str, on: date) -> Decimal:
    """The standard VAT rate (percent) of EU member state ``country`` for a supply on ``on``."""
    code = country_code(country)
    if code not in EU_COUNTRIES:
        raise NoVatRate(N_("%(country)s is not an EU member state"), country=code)
    for entry in _history()[code]:
        if entry.valid_from <= on:
            return entry.rate
    raise NoVatRate(N_("No VAT rate for %(country)s is known on %(date)s"), country=code, date=on.isoformat())


# CLDR lists these two-letter codes beside the countries; they name no place a customer can live in.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})


@lru_cache(maxsize=1)
def _iso_countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (and the few territories CLDR adds, such as XK and IC), from babel's CLDR data."""
    codes = (code for code in Locale("en").territories if isinstance(code, str))
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


def country_code(raw: str) -> str:
    """An upper-case ISO 3166-1 alpha-2 code; ``UnknownCountry`` for anything else (``EL`` is a VAT prefix only)."""
    code = raw.strip().upper()
    if code not in _iso_countries():
        raise UnknownCountry(N_("%(country)s is not a known country code"), country=raw)
    return code


# §1 Abs. 2a Satz 1 UStG / Art. 7 Abs. 1 MwStSystRL: Monaco is treated as part of France for VAT.
_VAT_TERRITORY_OF = {"MC": "FR"}


def vat_territory(country: str) -> str:
    """The country whose VAT territory ``country`` belongs to (itself, except Monaco → France)."""
    code = country_code(country)
    return _VAT_TERRITORY_OF.get(code, code)


def vat_id_prefix(country: str) -> str:
    """The prefix of a VAT ID issued in ``country``: the ISO code, except Greece (EL, not GR)."""
    code = vat_territory(country)
    return "EL" if code == "GR" else code
