"""Customers through their commands: normalised, VAT IDs with provenance, one account per email."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor, ActorKind
from app.customers.commands import create_customer
from app.customers.models import Customer
from app.errors import ValidationFailed
from app.uow import UnitOfWork

STAFF = Actor(ActorKind.STAFF, None, "staff@smplat.example")


async def test_customer_is_normalised_and_vat_id_provenance_recorded(session: AsyncSession):
    customer = await create_customer(
        UnitOfWork(session),
        values={
            "email": " Info@Cafe.DE ",
            "company": "Café GmbH",
            "country": "de",
            "vat_id": "DE 136 695 976",
            "locale": "DE",
        },
        actor=STAFF,
    )
    assert (customer.email, customer.country, customer.vat_id, customer.locale) == (
        "info@cafe.de",
        "DE",
        "DE136695976",
        "de",
    )
    assert customer.vat_id_entered_by == "staff@smplat.example" and customer.vat_id_entered_at is not None


async def test_invalid_fields_are_all_reported_and_nothing_is_saved(session: AsyncSession):
    with pytest.raises(ValidationFailed) as excinfo:
        await create_customer(
            UnitOfWork(session), values={"email": "x", "country": "Germany", "vat_id": "DE1"}, actor=STAFF
        )
    assert set(excinfo.value.errors) == {"email", "country", "vat_id"}
    assert await session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


async def test_email_is_unique_whatever_its_case(session: AsyncSession):
    await create_customer(UnitOfWork(session), values={"email": "a@example.com"}, actor=STAFF)
    with pytest.raises(ValidationFailed) as excinfo:
        await create_customer(UnitOfWork(session), values={"email": "A@example.com"}, actor=STAFF)
    assert set(excinfo.value.errors) == {"email"}
