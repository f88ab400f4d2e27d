"""Customer commands: create a customer and edit their profile (staff, and the client in the portal).

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
from app.errors import DomainError, ValidationFailed
from app.i18n import N_
from app.invoicing.vat_ids import normalise_vat_id
from app.notifications.unsubscribe import customer_of_token
from app.uow import UnitOfWork

CUSTOMER = "customer"
# What a client may change about themselves in the portal (their email is their login: staff change it).
PROFILE_FIELDS = (
    "name",
    "company",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "vat_id",
    "locale",
)
CUSTOMER_FIELDS = ("email", *PROFILE_FIELDS, "notes")


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


def _profile_rules(actor: Actor) -> Clean:
    """The customer rules, with the VAT ID checked against the country as the checkout checks it."""
    customer_rules = _with_vat_provenance(actor)

    async def clean(session: AsyncSession, proposed: dict[str, Any], current: Customer | None) -> dict[str, Any]:
        values = await customer_rules(session, proposed, current)
        if values["vat_id"] is not None:
            try:
                values["vat_id"] = normalise_vat_id(values["vat_id"], values["country"])
            except DomainError as exc:
                raise ValidationFailed({"vat_id": exc.text}) from exc
        return values

    return clean


async def update_own_profile(uow: UnitOfWork, *, customer_id: int, values: Mapping[str, Any], actor: Actor) -> Customer:
    """The client's own profile (portal): only ``PROFILE_FIELDS``, the VAT ID valid for the country."""
    unknown = sorted(set(values) - set(PROFILE_FIELDS))
    if unknown:
        raise ValidationFailed({name: N_("cannot be changed here") for name in unknown})
    return await update_record(
        uow,
        Customer,
        customer_id,
        entity_type=CUSTOMER,
        fields=CUSTOMER_FIELDS,
        values=values,
        clean=_profile_rules(actor),
        actor=actor,
    )


INVALID_UNSUBSCRIBE_LINK = N_("This unsubscribe link is not valid. Please use the link from your email.")


class UnsubscribeLinkInvalid(DomainError):
    code = "unsubscribe_link_invalid"
    title = N_("Invalid link")


async def unsubscribe_renewal_notices(uow: UnitOfWork, *, token: str, actor: Actor) -> Customer:
    """The customer no longer gets the subscription renewal notice (one click in the mail); idempotent, audited.

    A token that is malformed, forged or names no customer changes nothing.
    """
    customer_id = customer_of_token(token)
    customer = None if customer_id is None else await uow.session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise UnsubscribeLinkInvalid(INVALID_UNSUBSCRIBE_LINK)
    if customer.renewal_notices:
        uow.track(customer)
        customer.renewal_notices = False
        uow.audit_changes(actor, "unsubscribe-renewal-notices")
        await uow.flush()
    return customer
