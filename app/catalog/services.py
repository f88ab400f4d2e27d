"""The catalog: categories and the services we sell."""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.orm import selectinload

from app.catalog.models import Category, Service
from app.errors import NotFound

MAX_SLUG_LENGTH = 120


def slugify(text: str) -> str:
    replacements = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
    text = "".join(replacements.get(ch, ch) for ch in text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:MAX_SLUG_LENGTH].strip("-")


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

    async def active_categories(self) -> Sequence[Category]:
        """Active categories with their active services, in display order."""
        session = self.repository.session
        stmt = (
            sa.select(Category)
            .where(Category.is_active.is_(True))
            .options(selectinload(Category.services))
            .order_by(Category.position, Category.id)
        )
        categories = (await session.scalars(stmt)).unique().all()
        for category in categories:
            session.expunge(category)
            category.services = [s for s in category.services if s.is_active]
        return [c for c in categories if c.services]
