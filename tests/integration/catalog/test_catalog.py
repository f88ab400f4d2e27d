from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.services import CatalogService
from app.errors import Conflict, ValidationFailed
from tests import factories


async def test_duplicate_service_is_an_inactive_copy_with_a_free_slug(session: AsyncSession):
    original = await factories.service(session, price="3.5000")
    catalog = CatalogService(session=session)
    first = await catalog.duplicate_service(original.id)
    second = await catalog.duplicate_service(original.id)
    assert first.slug == f"{original.slug}-copy" and second.slug == f"{original.slug}-copy-2"
    assert not first.is_active and first.price == Decimal("3.5000")
    assert first.name_en.endswith("(copy)") and first.name_de.endswith("(Kopie)")


async def test_bulk_activation(session: AsyncSession):
    a = await factories.service(session)
    b = await factories.service(session)
    catalog = CatalogService(session=session)
    assert await catalog.set_active([a.id, b.id], active=False) == 2
    assert [s for s in await catalog.active_categories() if s.services] == []


async def test_service_definition_is_checked(session: AsyncSession):
    service = await factories.service(session)
    other = await factories.service(session)
    catalog = CatalogService(session=session)
    service.min_quantity, service.max_quantity, service.slug = 500, 100, "Bad Slug"
    with pytest.raises(ValidationFailed) as excinfo:
        await catalog.check_definition(service)
    assert set(excinfo.value.errors) == {"max_quantity", "slug"}
    service.min_quantity, service.max_quantity, service.slug = 100, 500, other.slug
    with pytest.raises(Conflict):
        await catalog.check_definition(service)
