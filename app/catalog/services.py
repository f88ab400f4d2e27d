"""The catalog: categories and the services we sell."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService

from app.catalog.models import Category, Service, ServiceKind
from app.catalog.offers import CategoryOffers, active_categories
from app.errors import Conflict, NotFound, ValidationFailed

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 120


def slugify(text: str) -> str:
    replacements = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
    text = "".join(replacements.get(ch, ch) for ch in text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:MAX_SLUG_LENGTH].strip("-")


def validate_service_fields(
    *, slug: str, price: Decimal | str, min_quantity: int, max_quantity: int, refill_days: int, kind: ServiceKind | str
) -> dict[str, str]:
    """Field errors for a service definition (empty when valid); mirrors the table's check constraints."""
    errors: dict[str, str] = {}
    if not SLUG_PATTERN.match(slug or ""):
        errors["slug"] = "use lowercase letters, digits and single hyphens"
    try:
        if Decimal(price) < 0:
            errors["price"] = "must not be negative"
    except (InvalidOperation, TypeError, ValueError):
        errors["price"] = "must be a number such as 2.50"
    if min_quantity < 1:
        errors["min_quantity"] = "must be at least 1"
    if max_quantity < min_quantity:
        errors["max_quantity"] = "must not be below the minimum"
    if refill_days < 0:
        errors["refill_days"] = "must not be negative"
    try:
        ServiceKind(kind)
    except ValueError:
        errors["kind"] = f"unknown kind {kind!r}"
    return errors


class CategoryService(SQLAlchemyAsyncRepositoryService[Category]):
    class Repo(SQLAlchemyAsyncRepository[Category]):
        model_type = Category

    repository_type = Repo


class CatalogService(SQLAlchemyAsyncRepositoryService[Service]):
    class Repo(SQLAlchemyAsyncRepository[Service]):
        model_type = Service

    repository_type = Repo

    async def get_service(self, service_id: int) -> Service:
        service = await self.get_one_or_none(id=service_id)
        if service is None:
            raise NotFound(f"service {service_id} not found")
        return service

    async def get_active_by_slug(self, slug: str) -> Service:
        service = await self.get_one_or_none(Service.slug == slug, Service.is_active.is_(True))
        if service is None or not service.category.is_active:
            raise NotFound(f"no service {slug!r}")
        return service

    async def active_categories(self) -> list[CategoryOffers]:
        """Active categories with their active services, in display order, as read models (see offers.py)."""
        return await active_categories(self.repository.session)

    async def set_active(self, service_ids: Sequence[int], *, active: bool) -> int:
        result = await self.repository.session.execute(
            sa.update(Service).where(Service.id.in_(service_ids)).values(is_active=active)
        )
        return int(result.rowcount or 0)

    async def duplicate_service(self, service_id: int) -> Service:
        """An inactive copy with a free slug, for staff to adjust before activating it."""
        original = await self.get_service(service_id)
        base = f"{original.slug}-copy"[:MAX_SLUG_LENGTH]
        slug, n = base, 2
        while await self.exists(slug=slug):
            slug = f"{base}-{n}"
            n += 1
        columns = [c.key for c in sa.inspect(Service).column_attrs if c.key not in ("id", "created_at", "updated_at")]
        copy = Service(**{key: getattr(original, key) for key in columns})
        copy.slug = slug
        copy.is_active = False
        copy.name_de = f"{original.name_de} (Kopie)"
        copy.name_en = f"{original.name_en} (copy)"
        return await self.create(copy)

    async def ensure_slug_free(self, slug: str, *, except_id: int | None = None) -> None:
        # No autoflush: the service being checked may carry the very slug that would collide.
        with self.repository.session.no_autoflush:
            existing = await self.get_one_or_none(slug=slug)
        if existing is not None and existing.id != except_id:
            raise Conflict(f"slug {slug!r} is already used by another service")

    async def check_definition(self, service: Service) -> None:
        errors = validate_service_fields(
            slug=service.slug,
            price=service.price,
            min_quantity=service.min_quantity,
            max_quantity=service.max_quantity,
            refill_days=service.refill_days,
            kind=service.kind,
        )
        if errors:
            raise ValidationFailed(errors)
        await self.ensure_slug_free(service.slug, except_id=service.id)
