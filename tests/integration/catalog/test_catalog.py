from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditLog
from app.catalog import commands
from app.catalog.models import Service
from app.errors import ValidationFailed
from app.uow import UnitOfWork
from tests import factories

ACTOR = factories.TEST_ACTOR


async def test_duplicate_service_is_an_inactive_copy_with_a_free_slug(session: AsyncSession):
    original = await factories.service(session, price="3.5000")
    uow = UnitOfWork(session)
    (first,) = await commands.duplicate_services(uow, service_ids=[original.id], actor=ACTOR)
    (second,) = await commands.duplicate_services(uow, service_ids=[original.id], actor=ACTOR)
    assert first.slug == f"{original.slug}-copy" and second.slug == f"{original.slug}-copy-2"
    assert not first.is_active and first.price == Decimal("3.5000")
    assert first.name_en.endswith("(copy)") and first.name_de.endswith("(Kopie)")
    audit = (await session.scalars(sa.select(AuditLog).where(AuditLog.entity_id == str(first.id)))).one()
    assert (audit.action, audit.diff["duplicate_of"]) == ("create", original.id)


async def test_bulk_activation_changes_and_audits_only_what_changes(session: AsyncSession):
    a = await factories.service(session)
    b = await factories.service(session, is_active=False)
    uow = UnitOfWork(session)
    changed = await commands.set_services_active(uow, service_ids=[b.id, a.id], active=False, actor=ACTOR)
    assert [s.id for s in changed] == [a.id]
    assert not await session.scalar(sa.select(sa.func.count()).select_from(Service).where(Service.is_active))
    rows = (await session.scalars(sa.select(AuditLog))).all()
    assert [(row.action, row.entity_id, row.diff) for row in rows] == [
        ("deactivate", str(a.id), {"is_active": {"before": True, "after": False}})
    ]


async def test_service_definition_is_checked_field_by_field(session: AsyncSession):
    service = await factories.service(session)
    other = await factories.service(session)
    uow = UnitOfWork(session)
    values = {"min_quantity": 500, "max_quantity": 100, "slug": "Bad Slug"}
    with pytest.raises(ValidationFailed) as excinfo:
        await commands.update_service(uow, service_id=service.id, values=values, actor=ACTOR)
    assert set(excinfo.value.errors) == {"max_quantity", "slug"}
    with pytest.raises(ValidationFailed) as excinfo:
        await commands.update_service(uow, service_id=service.id, values={"slug": other.slug}, actor=ACTOR)
    assert set(excinfo.value.errors) == {"slug"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"currency": "ZZZ"}, "currency"),
        ({"price": Decimal("0.00001")}, "price"),
        ({"price": Decimal("1E+30")}, "price"),
        ({"price": Decimal("-1")}, "price"),
        ({"min_quantity": 2**31}, "min_quantity"),
        ({"description_en": "x" * 200_000}, "description_en"),
        ({"name_de": "a\x00b"}, "name_de"),
        ({"name_en": "  "}, "name_en"),
        ({"category_id": 2**62}, "category_id"),
        ({"expected_start_hours": 0}, "expected_start_hours"),
        ({"expected_start_hours": 721}, "expected_start_hours"),
        ({"expected_start_hours": None}, "expected_start_hours"),
        ({"speed_per_day": -5}, "speed_per_day"),
        ({"speed_per_day": 10_000_001}, "speed_per_day"),
    ],
)
async def test_a_service_value_the_catalog_cannot_hold_is_refused_on_its_field(session: AsyncSession, values, field):
    service = await factories.service(session)
    with pytest.raises(ValidationFailed) as excinfo:
        await commands.update_service(UnitOfWork(session), service_id=service.id, values=values, actor=ACTOR)
    assert set(excinfo.value.errors) == {field}


async def test_a_services_start_promise_and_speed_are_saved_and_audited(session: AsyncSession):
    service = await factories.service(session)

    values = {"expected_start_hours": 2, "speed_per_day": 5000}
    saved = await commands.update_service(UnitOfWork(session), service_id=service.id, values=values, actor=ACTOR)

    assert (saved.expected_start_hours, saved.speed_per_day) == (2, 5000)
    audit = await session.scalar(sa.select(AuditLog).where(AuditLog.entity_id == str(service.id)))
    assert audit is not None and audit.diff["speed_per_day"] == {"before": 1000, "after": 5000}


@pytest.mark.parametrize("slug", ["Bad Slug!", "bad--slug", "-bad", "bäd", ""])
async def test_a_category_slug_must_be_lowercase_words_with_single_hyphens(session: AsyncSession, slug):
    values = {"slug": slug, "platform": "tiktok", "name_de": "Neu", "name_en": "New"}
    with pytest.raises(ValidationFailed) as excinfo:
        await commands.create_category(UnitOfWork(session), values=values, actor=ACTOR)
    assert set(excinfo.value.errors) == {"slug"}
