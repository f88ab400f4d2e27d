"""What the storefront offers: active services in active categories, read into plain values.

Public pages only read. They get frozen read models built from one query, never ORM objects whose
relationships could be reassigned (and flushed) on the way to a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import PRICE_BASIS, CatalogVersion, Category, Platform, PriceBasis, Service, ServiceKind


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    id: int
    slug: str
    platform: Platform
    name_de: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en


@dataclass(frozen=True, slots=True)
class ServiceOffer:
    """One service as a visitor sees it, with the category it is listed under."""

    id: int
    slug: str
    kind: ServiceKind
    name_de: str
    name_en: str
    description_de: str
    description_en: str
    price: Decimal
    currency: str
    min_quantity: int
    max_quantity: int
    refill_days: int
    category: CategoryInfo

    @property
    def price_basis(self) -> PriceBasis:
        return PRICE_BASIS[self.kind]

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en

    def description(self, locale: str) -> str:
        return self.description_de if locale == "de" else self.description_en


@dataclass(frozen=True, slots=True)
class CategoryOffers(CategoryInfo):
    """An active category with its active services, in display order."""

    services: tuple[ServiceOffer, ...] = ()


_CATEGORY_COLUMNS = (Category.id, Category.slug, Category.platform, Category.name_de, Category.name_en)
_SERVICE_COLUMNS = (
    Service.id,
    Service.slug,
    Service.kind,
    Service.name_de,
    Service.name_en,
    Service.description_de,
    Service.description_en,
    Service.price,
    Service.currency,
    Service.min_quantity,
    Service.max_quantity,
    Service.refill_days,
)


def _offers_query() -> sa.Select[tuple[object, ...]]:
    """Columns only (no entities): rows that are values, nothing the session tracks."""
    return (
        sa.select(*_CATEGORY_COLUMNS, *_SERVICE_COLUMNS)
        .select_from(Service)
        .join(Category, Category.id == Service.category_id)
        .where(Service.is_active.is_(True), Category.is_active.is_(True))
    )


def _offer(row: sa.Row[tuple[object, ...]], category: CategoryInfo) -> ServiceOffer:
    values = row._mapping
    return ServiceOffer(
        category=category,
        **{column.key: values[column] for column in _SERVICE_COLUMNS},
    )


def _category(row: sa.Row[tuple[object, ...]]) -> CategoryInfo:
    values = row._mapping
    return CategoryInfo(**{column.key: values[column] for column in _CATEGORY_COLUMNS})


async def active_categories(session: AsyncSession) -> list[CategoryOffers]:
    """Active categories that have at least one active service, each with those services, in display order."""
    stmt = _offers_query().order_by(Category.position, Category.id, Service.position, Service.id)
    grouped: dict[int, tuple[CategoryInfo, list[ServiceOffer]]] = {}
    for row in await session.execute(stmt):
        category_id = row._mapping[Category.id]
        if category_id not in grouped:
            grouped[category_id] = (_category(row), [])
        info, services = grouped[category_id]
        services.append(_offer(row, info))
    return [
        CategoryOffers(
            id=info.id,
            slug=info.slug,
            platform=info.platform,
            name_de=info.name_de,
            name_en=info.name_en,
            services=tuple(services),
        )
        for info, services in grouped.values()
    ]


async def active_service(session: AsyncSession, slug: str) -> ServiceOffer | None:
    """The service with this slug if it is on offer (active, in an active category), else None."""
    row = (await session.execute(_offers_query().where(Service.slug == slug))).first()
    return None if row is None else _offer(row, _category(row))


async def catalog_version(session: AsyncSession) -> int:
    """The catalog's version: it changes in every transaction that edits categories, services or the company
    settings (triggers, migration 0012). 0 when the row is missing (the next edit recreates it)."""
    return (await session.scalar(sa.select(CatalogVersion.version).where(CatalogVersion.id == 1))) or 0
