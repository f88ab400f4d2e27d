"""The seller's data (one row): what an invoice needs, checked before it is saved."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError

from app.company.models import CompanySettings
from app.errors import ValidationFailed
from app.i18n import N_, Message
from app.invoicing.tax import ServiceClassification
from app.validation import normalise_country, normalise_email, normalise_vat_id, normalise_web_url

SINGLETON_ID = 1
STEUERNUMMER = re.compile(r"^[0-9/ ]{10,15}$")
REQUIRED_FIELDS = ("legal_name", "address_line1", "postal_code", "city", "email", "country")
COMPANY_FIELDS = (
    "legal_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "email",
    "phone",
    "website",
    "tax_number",
    "vat_id",
    "managing_director",
    "register_court",
    "register_number",
    "bank_name",
    "iban",
    "bic",
    "is_small_business",
    "service_classification",
)
# The DATEV export's numbers (app/invoicing/datev.py): not printed on invoices, so not in the seller snapshot.
DATEV_FIELDS = (
    "datev_consultant_number",
    "datev_client_number",
    "datev_debtor_account",
    "datev_account_domestic",
    "datev_account_reverse_charge",
    "datev_account_eu_oss",
    "datev_account_non_eu_business",
    "datev_account_non_eu_consumer",
    "datev_account_small_business",
)
EDITABLE_FIELDS = COMPANY_FIELDS + DATEV_FIELDS
# Allowed values per DATEV field: Beraternummer, Mandantennummer, a debtor (5 digits with SKR03's 4-digit general
# ledger accounts) and the 4-digit revenue accounts.
DATEV_RANGES: dict[str, tuple[int, int]] = {
    "datev_consultant_number": (1001, 9999999),
    "datev_client_number": (1, 99999),
    "datev_debtor_account": (10000, 69999),
} | {name: (1000, 9999) for name in DATEV_FIELDS if name.startswith("datev_account_")}
OPTIONAL_DATEV_FIELDS = ("datev_consultant_number", "datev_client_number")


def _iban(raw: str) -> str:
    try:
        return str(stdnum_iban.validate(raw))
    except StdnumValidationError as exc:
        raise ValueError(raw) from exc


def _bic(raw: str) -> str:
    try:
        return str(stdnum_bic.validate(raw))
    except StdnumValidationError as exc:
        raise ValueError(raw) from exc


NORMALISERS: dict[str, tuple[Callable[[str], str], str]] = {
    "email": (normalise_email, N_("is not a valid email address")),
    "country": (normalise_country, N_("use a two-letter country code such as DE")),
    "vat_id": (normalise_vat_id, N_("is not a valid VAT ID (country code, then the number)")),
    "website": (normalise_web_url, N_("use a web address starting with https:// or http://")),
    "iban": (_iban, N_("is not a valid IBAN")),
    "bic": (_bic, N_("is not a valid BIC")),
}


class CompanySettingsService(SQLAlchemyAsyncRepositoryService[CompanySettings]):
    class Repo(SQLAlchemyAsyncRepository[CompanySettings]):
        model_type = CompanySettings

    repository_type = Repo

    async def current(self) -> CompanySettings | None:
        return await self.get_one_or_none(id=SINGLETON_ID)


async def clean_company_settings(
    _session: AsyncSession, proposed: dict[str, Any], _current: CompanySettings | None
) -> dict[str, Any]:
    """Normalised seller data, or every problem at once; invoices depend on it being right."""
    values: dict[str, Any] = {"is_small_business": False, **proposed}
    errors: dict[str, str | Message] = {}
    for name in COMPANY_FIELDS:
        value = values.get(name)
        if isinstance(value, str) or value is None:
            values[name] = (value or "").strip() or None
    for name, (normalise, problem) in NORMALISERS.items():
        if values[name] is not None:
            try:
                values[name] = normalise(values[name])
            except ValueError:
                errors[name] = problem
    if values["tax_number"] and not STEUERNUMMER.match(values["tax_number"]):
        errors["tax_number"] = N_("a Steuernummer has 10 to 13 digits, e.g. 37/123/45678")
    if not values["tax_number"] and not values["vat_id"] and "vat_id" not in errors:
        errors["tax_number"] = N_("enter the Steuernummer or the VAT ID (§14 Abs. 4 UStG)")
    for name in REQUIRED_FIELDS:
        if not values[name] and name not in errors:
            errors[name] = N_("is required")
    values["is_small_business"] = bool(values["is_small_business"])
    try:
        values["service_classification"] = ServiceClassification(values.get("service_classification") or "electronic")
    except ValueError:
        errors["service_classification"] = N_("choose one of the listed options")
    _clean_datev_numbers(values, errors)
    if errors:
        raise ValidationFailed(errors)
    values["id"] = SINGLETON_ID
    return values


def _clean_datev_numbers(values: dict[str, Any], errors: dict[str, str | Message]) -> None:
    """Whole numbers within DATEV's ranges; the two advisor numbers may stay empty until the advisor gives them."""
    for name, (lowest, highest) in DATEV_RANGES.items():
        if name not in values:
            continue  # a new row takes the column's default
        raw = values[name]
        text = "" if raw is None else str(raw).strip()
        if not text:
            values[name] = None
            if name not in OPTIONAL_DATEV_FIELDS:
                errors[name] = N_("is required")
            continue
        number = int(text) if text.isdigit() else None
        if number is None or not lowest <= number <= highest:
            errors[name] = Message(
                N_("enter a whole number from %(lowest)s to %(highest)s"), {"lowest": lowest, "highest": highest}
            )
            continue
        values[name] = number
