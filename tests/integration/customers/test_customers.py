from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.customers.services import CustomerInput, CustomerService
from app.errors import Conflict, ValidationFailed

STAFF = Actor.staff(7, "staff@smplat.example")


async def test_customer_is_normalised_and_vat_id_provenance_recorded(session: AsyncSession):
    customer = await CustomerService(session=session).create_customer(
        CustomerInput(email=" Info@Cafe.DE ", company="Café GmbH", country="de", vat_id="DE 136 695 976", locale="DE"),
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
    customers = CustomerService(session=session)
    with pytest.raises(ValidationFailed) as excinfo:
        await customers.create_customer(CustomerInput(email="x", country="Germany", vat_id="DE1"), actor=STAFF)
    assert set(excinfo.value.errors) == {"email", "country", "vat_id"}
    assert await customers.count() == 0


async def test_email_is_unique(session: AsyncSession):
    customers = CustomerService(session=session)
    await customers.create_customer(CustomerInput(email="a@example.com"), actor=STAFF)
    with pytest.raises(Conflict):
        await customers.create_customer(CustomerInput(email="A@example.com"), actor=STAFF)
    same = await customers.get_or_create(CustomerInput(email="a@example.com"), actor=STAFF)
    assert same.email == "a@example.com"
