"""What the database refuses reaches people as a readable refusal naming the field, never as SQL or values."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Category, Service
from app.db.errors import database_refusal
from app.errors import DomainError, ValidationFailed
from tests import factories


async def refusal_for(session: AsyncSession, statement: sa.Executable, model: type) -> DomainError:
    with pytest.raises(DBAPIError) as excinfo:
        async with session.begin_nested():
            await session.execute(statement)
    refusal = database_refusal(excinfo.value, model)
    for leak in ("SQL", "INSERT", "UPDATE", "parameters", "asyncpg"):
        assert leak not in refusal.message
    return refusal


async def test_a_taken_unique_value_names_its_field(session: AsyncSession):
    category = await factories.category(session)
    other = await factories.category(session)

    refusal = await refusal_for(
        session, sa.update(Category).where(Category.id == other.id).values(slug=category.slug), Category
    )

    assert isinstance(refusal, ValidationFailed)
    assert refusal.field_errors() == {"slug": "is already used by another record"}


async def test_a_broken_check_names_the_fields_it_covers(session: AsyncSession):
    service = await factories.service(session)

    refusal = await refusal_for(
        session, sa.update(Service).where(Service.id == service.id).values(price=Decimal("-1")), Service
    )

    assert isinstance(refusal, ValidationFailed)
    assert set(refusal.errors) == {"price"}


@pytest.mark.parametrize(
    "values",
    [{"name_en": "x" * 161}, {"name_en": "a\x00b"}, {"price": Decimal("1E+30")}, {"min_quantity": 2**40}],
    ids=["too-long", "nul", "numeric-overflow", "integer-overflow"],
)
async def test_a_value_the_column_cannot_hold_is_refused_in_words(session: AsyncSession, values):
    service = await factories.service(session)

    refusal = await refusal_for(session, sa.update(Service).where(Service.id == service.id).values(**values), Service)

    assert refusal.message.startswith("Not saved:")
