"""Catalog commands: create and edit categories and services, activate, deactivate and duplicate services.

Ids and values in, an Actor for the audit trail; the caller's unit of work commits (see ``app/uow.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.actors import Actor
from app.audit.services import snapshot
from app.catalog.models import Category, Service
from app.catalog.rules import CATEGORY_FIELDS, SERVICE_FIELDS, clean_category, clean_service
from app.editing import create_record, update_record
from app.errors import Conflict, NotFound
from app.i18n import N_
from app.uow import UnitOfWork

CATEGORY = "category"
SERVICE = "service"
MAX_SLUG_LENGTH = 120


async def create_category(uow: UnitOfWork, *, values: Mapping[str, Any], actor: Actor) -> Category:
    return await create_record(
        uow, Category, entity_type=CATEGORY, fields=CATEGORY_FIELDS, values=values, clean=clean_category, actor=actor
    )


async def update_category(
    uow: UnitOfWork, *, category_id: int, values: Mapping[str, Any], actor: Actor, version: str | None = None
) -> Category:
    return await update_record(
        uow,
        Category,
        category_id,
        entity_type=CATEGORY,
        fields=CATEGORY_FIELDS,
        values=values,
        clean=clean_category,
        actor=actor,
        version=version,
    )


async def create_service(uow: UnitOfWork, *, values: Mapping[str, Any], actor: Actor) -> Service:
    return await create_record(
        uow, Service, entity_type=SERVICE, fields=SERVICE_FIELDS, values=values, clean=clean_service, actor=actor
    )


async def update_service(
    uow: UnitOfWork, *, service_id: int, values: Mapping[str, Any], actor: Actor, version: str | None = None
) -> Service:
    return await update_record(
        uow,
        Service,
        service_id,
        entity_type=SERVICE,
        fields=SERVICE_FIELDS,
        values=values,
        clean=clean_service,
        actor=actor,
        version=version,
    )


async def _lock_services(uow: UnitOfWork, service_ids: Sequence[int]) -> list[Service]:
    """The services, locked in ascending id order (so that overlapping batches queue instead of deadlocking)."""
    ids = sorted(set(service_ids))
    stmt = (
        sa.select(Service)
        .where(Service.id.in_(ids))
        .order_by(Service.id)
        .with_for_update(of=Service)
        .execution_options(populate_existing=True)
    )
    services = list((await uow.session.scalars(stmt)).unique().all())
    if len(services) != len(ids):
        raise NotFound(N_("Some of the selected services no longer exist."))
    return services


async def set_services_active(
    uow: UnitOfWork, *, service_ids: Sequence[int], active: bool, actor: Actor
) -> list[Service]:
    """Show (or hide) the services in the storefront; returns those that changed."""
    changed = []
    for service in await _lock_services(uow, service_ids):
        if service.is_active == active:
            continue
        before = snapshot(service)
        service.is_active = active
        changed.append((service, before))
    await uow.flush()
    for service, before in changed:
        uow.audit(
            actor, "activate" if active else "deactivate", SERVICE, service.id, before=before, after=snapshot(service)
        )
    return [service for service, _before in changed]


async def _free_copy_slug(uow: UnitOfWork, original: Service) -> str:
    """``<slug>-copy``, else ``<slug>-copy-2``, ``-3``, …: the first one no service uses (read under the lock)."""
    base = f"{original.slug[: MAX_SLUG_LENGTH - len('-copy-99999')]}-copy"
    used = set(
        (await uow.session.scalars(sa.select(Service.slug).where(Service.slug.startswith(base, autoescape=True)))).all()
    )
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


async def duplicate_services(uow: UnitOfWork, *, service_ids: Sequence[int], actor: Actor) -> list[Service]:
    """An inactive copy of each service, with a free slug, for staff to adjust before activating it.

    The originals are locked first, so parallel duplicates of one service queue and each sees the copies made
    before it; a slug taken in between anyway (by a create of that very slug) is refused, not a server error.
    """
    copies = []
    columns = [c.key for c in sa.inspect(Service).column_attrs if c.key not in ("id", "created_at", "updated_at")]
    for original in await _lock_services(uow, service_ids):
        copy = Service(**{key: getattr(original, key) for key in columns})
        copy.slug = await _free_copy_slug(uow, original)
        copy.is_active = False
        copy.name_de = f"{original.name_de} (Kopie)"[:160]
        copy.name_en = f"{original.name_en} (copy)"[:160]
        uow.session.add(copy)
        try:
            await uow.flush()
        except IntegrityError as exc:
            raise Conflict(
                N_("Not duplicated: another service took the copy's name at the same moment. Please try again.")
            ) from exc
        uow.audit(actor, "create", SERVICE, copy.id, after=snapshot(copy), details={"duplicate_of": original.id})
        copies.append(copy)
    return copies
