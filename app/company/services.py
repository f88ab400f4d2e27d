"""The seller's data (one row)."""

from __future__ import annotations

import re

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError

from app.company.models import CompanySettings
from app.errors import ValidationFailed
from app.validation import normalise_country, normalise_email, normalise_vat_id

SINGLETON_ID = 1
STEUERNUMMER = re.compile(r"^[0-9/ ]{10,15}$")


class CompanySettingsService(SQLAlchemyAsyncRepositoryService[CompanySettings]):
    class Repo(SQLAlchemyAsyncRepository[CompanySettings]):
        model_type = CompanySettings

    repository_type = Repo

    async def current(self) -> CompanySettings | None:
        return await self.get_one_or_none(id=SINGLETON_ID)


def check_company_settings(company: CompanySettings) -> None:
    """Normalise and validate the seller data in place; invoices depend on it being right."""
    errors: dict[str, str] = {}
    company.id = SINGLETON_ID
    for field, normalise in (("email", normalise_email), ("country", normalise_country), ("vat_id", normalise_vat_id)):
        value = (getattr(company, field) or "").strip()
        if not value:
            setattr(company, field, None if field == "vat_id" else value)
            continue
        try:
            setattr(company, field, normalise(value))
        except ValueError as exc:
            errors[field] = str(exc)
    if company.iban:
        try:
            company.iban = stdnum_iban.validate(company.iban)
        except StdnumValidationError:
            errors["iban"] = "not a valid IBAN"
    if company.bic:
        try:
            company.bic = stdnum_bic.validate(company.bic)
        except StdnumValidationError:
            errors["bic"] = "not a valid BIC"
    if company.tax_number and not STEUERNUMMER.match(company.tax_number.strip()):
        errors["tax_number"] = "a Steuernummer has 10 to 13 digits, e.g. 37/123/45678"
    if not company.tax_number and not company.vat_id:
        errors["tax_number"] = "enter the Steuernummer or the VAT ID (§14 Abs. 4 UStG)"
    for field in ("legal_name", "address_line1", "postal_code", "city", "email"):
        if not (getattr(company, field) or "").strip():
            errors[field] = "is required"
    if errors:
        raise ValidationFailed(errors)
