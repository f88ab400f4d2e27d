"""EU VAT IDs (USt-IdNr.): format and check digits offline with python-stdnum, and the prefix of the buyer's country.

Whether the number is currently registered is VIES's answer, not ours; this only refuses numbers that cannot be.
"""

from __future__ import annotations

from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumValidationError

from app.errors import DomainError
from app.i18n import N_
from app.invoicing.vat_rates import EU_COUNTRIES, country_code, vat_id_prefix, vat_territory

__all__ = ["InvalidVatId", "normalise_vat_id"]


class InvalidVatId(DomainError, ValueError):
    """Not a VAT ID of the buyer's country; the message reads as a field error (``vat_id``: "is not …")."""

    code = "invalid_vat_id"
    title = N_("Invalid VAT ID")


def normalise_vat_id(raw: str, country: str) -> str:
    """``raw`` in compact form with its prefix (``DE136695976``, ``EL094259216``), for a buyer in ``country``.

    Raises ``InvalidVatId`` when the format or check digits are wrong, when the prefix is not the one of
    ``country`` (Greece: EL, not GR; Monaco: FR) or when ``country`` is not in the EU (a non-EU business needs no
    VAT ID for our invoices). ``UnknownCountry`` when ``country`` is no country code.
    """
    code = country_code(country)
    territory = vat_territory(code)
    if territory not in EU_COUNTRIES:
        raise InvalidVatId(N_("can only be checked for customers in the EU"))
    prefix = vat_id_prefix(territory)
    try:
        compact = vat.compact(raw)
    except StdnumValidationError as exc:
        raise InvalidVatId(N_("is not a valid VAT ID (country code, then the number)")) from exc
    # stdnum also accepts GR, XI and the OSS prefixes EU/IM; on an invoice only the buyer's own prefix is right.
    if not compact.startswith(prefix):
        raise InvalidVatId(N_("must start with %(prefix)s for a customer in %(country)s"), prefix=prefix, country=code)
    try:
        return str(vat.validate(compact))
    except StdnumValidationError as exc:
        raise InvalidVatId(N_("is not a valid VAT ID (wrong format or check digit)")) from exc
