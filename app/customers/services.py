"""Customers: what a customer record may hold (``CustomerInput.cleaned``), and customer queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

from app.customers.models import Customer
from app.errors import ValidationFailed
from app.i18n import N_
from app.validation import normalise_country, normalise_email, normalise_locale, normalise_vat_id


@dataclass
class CustomerInput:
    email: str
    name: str | None = None
    company: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str = "DE"
    vat_id: str | None = None
    locale: str = "de"
    notes: str | None = None

    def cleaned(self) -> CustomerInput:
        """Normalised copy; raises ValidationFailed listing every bad field."""
        errors: dict[str, str] = {}
        values: dict[str, str | None] = {f.name: _blank_to_none(getattr(self, f.name)) for f in fields(self)}
        for name, (normalise, problem) in NORMALISERS.items():
            value = values[name]
            if value is None:
                continue
            try:
                values[name] = normalise(value)
            except ValueError:
                errors[name] = problem
        if values["email"] is None:
            errors["email"] = N_("is required")
        if errors:
            raise ValidationFailed(errors)
        values["country"] = values["country"] or "DE"
        values["locale"] = values["locale"] or "de"
        return CustomerInput(**values)  # type: ignore[arg-type]  # required fields checked above


NORMALISERS: dict[str, tuple[Callable[[str], str], str]] = {
    "email": (normalise_email, N_("is not a valid email address")),
    "country": (normalise_country, N_("use a two-letter country code such as DE")),
    "locale": (normalise_locale, N_("must be de or en")),
    "vat_id": (normalise_vat_id, N_("is not a valid VAT ID (country code, then the number)")),
}


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class CustomerService(SQLAlchemyAsyncRepositoryService[Customer]):
    """Customer queries; changes go through ``app/customers/commands.py``."""

    class Repo(SQLAlchemyAsyncRepository[Customer]):
        model_type = Customer

    repository_type = Repo
