"""Customer commands: create a customer and edit their profile (staff, and later the client portal).

The rules are ``CustomerInput.cleaned`` (normalised email, country, language, VAT ID) and a unique email; who
entered a VAT ID, and when, is recorded with it (reverse charge depends on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.customers.models import Customer
from app.customers.services import CustomerInput
from app.editing import Clean, create_record, update_record
from app.errors import ValidationFailed
from app.i18n import N_
from app.uow import UnitOfWork

CUSTOMER = "customer"
CUSTOMER_FIELDS = (
    "email",
    "name",
    "company",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "vat_id",
    "locale",
    "notes",
)


async def clean_customer(session: AsyncSession, proposed: dict[str, Any], current: Customer | None) -> dict[str, Any]:
    text = {name: value for name, value in proposed.items() if isinstance(value, str) or value is None}
    cleaned = CustomerInput(**{"email": "", **text}).cleaned()  # type: ignore[arg-type]  # None: blank
    values = {name: getattr(cleaned, name) for name in CUSTOMER_FIELDS}
    notes = proposed.get("notes")
    values["notes"] = notes if isinstance(notes, str) and notes.strip() else None  # free text stays as typed
    taken = sa.select(Customer.id).where(Customer.email == values["email"])
    if current is not None:
        taken = taken.where(Customer.id != current.id)
    with session.no_autoflush:
        if await session.scalar(taken.limit(1)) is not None:
            raise ValidationFailed({"email": N_("is already used by another customer")})
    return values


def _with_vat_provenance(actor: Actor) -> Clean:
    """The customer rules, plus who entered a (changed) VAT ID and when."""

    async def clean(session: AsyncSession, proposed: dict[str, Any], current: Customer | None) -> dict[str, Any]:
        values = await clean_customer(session, proposed, current)
        if current is None or values["vat_id"] != current.vat_id:
            entered = values["vat_id"] is not None
            values["vat_id_entered_by"] = actor.describe() if entered else None
            values["vat_id_entered_at"] = datetime.now(UTC) if entered else None
        return values

    return clean


async def create_customer(uow: UnitOfWork, *, values: Mapping[str, Any], actor: Actor) -> Customer:
    return await create_record(
        uow,
        Customer,
        entity_type=CUSTOMER,
        fields=CUSTOMER_FIELDS,
        values=values,
        clean=_with_vat_provenance(actor),
        actor=actor,
    )


async def update_customer(
    uow: UnitOfWork, *, customer_id: int, values: Mapping[str, Any], actor: Actor, version: str | None = None
) -> Customer:
    return await update_record(
        uow,
        Customer,
        customer_id,
        entity_type=CUSTOMER,
        fields=CUSTOMER_FIELDS,
        values=values,
        clean=_with_vat_provenance(actor),
        actor=actor,
        version=version,
    )
