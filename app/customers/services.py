"""Customers: creation, profile changes, lookup by email."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

from app.actors import Actor
from app.customers.models import Customer
from app.errors import Conflict, NotFound, ValidationFailed
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
        for name, normalise in NORMALISERS.items():
            value = values[name]
            if value is None:
                continue
            try:
                values[name] = normalise(value)
            except ValueError as exc:
                errors[name] = str(exc)
        if values["email"] is None:
            errors["email"] = "is required"
        if errors:
            raise ValidationFailed(errors)
        values["country"] = values["country"] or "DE"
        values["locale"] = values["locale"] or "de"
        return CustomerInput(**values)  # type: ignore[arg-type]  # required fields checked above


NORMALISERS: dict[str, Callable[[str], str]] = {
    "email": normalise_email,
    "country": normalise_country,
    "locale": normalise_locale,
    "vat_id": normalise_vat_id,
}


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class CustomerService(SQLAlchemyAsyncRepositoryService[Customer]):
    class Repo(SQLAlchemyAsyncRepository[Customer]):
        model_type = Customer

    repository_type = Repo

    async def create_customer(self, data: CustomerInput, *, actor: Actor) -> Customer:
        data = data.cleaned()
        if await self.get_one_or_none(email=data.email):
            raise Conflict(f"a customer with email {data.email} already exists")
        customer = Customer(**{f.name: getattr(data, f.name) for f in fields(data)})
        if data.vat_id:
            customer.vat_id_entered_by = actor.describe()
            customer.vat_id_entered_at = datetime.now(UTC)
        return await self.create(customer)

    async def get_or_create(self, data: CustomerInput, *, actor: Actor) -> Customer:
        data = data.cleaned()
        existing = await self.get_one_or_none(email=data.email)
        return existing if existing is not None else await self.create_customer(data, actor=actor)

    async def update_customer(self, customer_id: int, data: CustomerInput, *, actor: Actor) -> Customer:
        data = data.cleaned()
        customer = await self.get_one_or_none(id=customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found")
        if data.email != customer.email and await self.get_one_or_none(email=data.email):
            raise Conflict(f"a customer with email {data.email} already exists")
        if data.vat_id != customer.vat_id:
            customer.vat_id_entered_by = actor.describe() if data.vat_id else None
            customer.vat_id_entered_at = datetime.now(UTC) if data.vat_id else None
        for f in fields(data):
            setattr(customer, f.name, getattr(data, f.name))
        await self.repository.session.flush()
        return customer
