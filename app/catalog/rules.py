"""What a category and a service may hold: the one place for the catalog's rules (every face goes through them).

Each ``clean_*`` takes the proposed values of the whole record (a create may leave fields out: their defaults
apply) and returns them normalised, or raises ``ValidationFailed`` naming every bad field. Column limits
(lengths, number ranges, decimal places, NUL) are checked beside them by ``app.editing``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Category, Platform, Service, ServiceKind
from app.errors import ValidationFailed
from app.fulfillment.models import ProviderService
from app.i18n import N_, Message, message
from app.validation import SALE_CURRENCIES, normalise_currency

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SLUG_RULE = N_("use lowercase letters, digits and single hyphens, e.g. instagram-likes")
REQUIRED = N_("is required")
MAX_START_HOURS = 720  # 30 days: a later start is a back order, not a promise worth printing
MAX_SPEED_PER_DAY = 10_000_000

CATEGORY_FIELDS = ("slug", "platform", "name_de", "name_en", "position", "is_active")
SERVICE_FIELDS = (
    "slug",
    "category_id",
    "kind",
    "name_de",
    "name_en",
    "description_de",
    "description_en",
    "price",
    "currency",
    "min_quantity",
    "max_quantity",
    "refill_days",
    "expected_start_hours",
    "speed_per_day",
    "cancellable",
    "is_active",
    "position",
    "provider_service_id",
)


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def _required_names(values: dict[str, Any], errors: dict[str, str | Message]) -> None:
    for name in ("name_de", "name_en"):
        values[name] = _text(values, name)
        if not values[name]:
            errors[name] = REQUIRED


def _slug(values: dict[str, Any], errors: dict[str, str | Message]) -> None:
    values["slug"] = _text(values, "slug")
    if not values["slug"]:
        errors["slug"] = REQUIRED
    elif not SLUG_PATTERN.match(values["slug"]):
        errors["slug"] = SLUG_RULE


def _choice(
    values: dict[str, Any], name: str, choices: type[Platform] | type[ServiceKind], errors: dict[str, Any]
) -> None:
    try:
        values[name] = choices(str(values.get(name)))
    except ValueError:
        errors[name] = N_("is not one of the choices")


async def _slug_taken(session: AsyncSession, model: type[Category] | type[Service], slug: str, current: Any) -> bool:
    stmt = sa.select(model.id).where(model.slug == slug)
    if current is not None:
        stmt = stmt.where(model.id != current.id)
    with session.no_autoflush:
        return await session.scalar(stmt.limit(1)) is not None


async def clean_category(session: AsyncSession, proposed: dict[str, Any], current: Category | None) -> dict[str, Any]:
    values = {"position": 0, "is_active": True, **proposed}
    errors: dict[str, str | Message] = {}
    _slug(values, errors)
    _choice(values, "platform", Platform, errors)
    _required_names(values, errors)
    if values.get("position") is None:
        values["position"] = 0
    if "slug" not in errors and await _slug_taken(session, Category, values["slug"], current):
        errors["slug"] = N_("is already used by another category")
    if errors:
        raise ValidationFailed(errors)
    return values


async def clean_service(session: AsyncSession, proposed: dict[str, Any], current: Service | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": ServiceKind.DEFAULT,
        "currency": "EUR",
        "description_de": "",
        "description_en": "",
        "min_quantity": 1,
        "max_quantity": 1,
        "refill_days": 0,
        "expected_start_hours": 24,
        "speed_per_day": 1000,
        "cancellable": False,
        "is_active": True,
        "position": 0,
        "provider_service_id": None,
        **proposed,
    }
    errors: dict[str, str | Message] = {}
    _slug(values, errors)
    _choice(values, "kind", ServiceKind, errors)
    _required_names(values, errors)
    for name in ("description_de", "description_en"):
        values[name] = values.get(name) or ""
    price = values.get("price")
    if not isinstance(price, Decimal | int):
        errors["price"] = REQUIRED
    elif price < 0:
        errors["price"] = N_("must not be negative")
    try:
        values["currency"] = normalise_currency(str(values.get("currency") or ""), SALE_CURRENCIES)
    except ValueError:
        errors["currency"] = message(N_("use one of %(codes)s"), codes=", ".join(SALE_CURRENCIES))
    _quantities(values, errors)
    for name in ("position", "refill_days"):
        if values.get(name) is None:
            values[name] = 0
    if values["refill_days"] < 0:
        errors["refill_days"] = N_("must not be negative")
    _bounded(values, "expected_start_hours", MAX_START_HOURS, errors)
    _bounded(values, "speed_per_day", MAX_SPEED_PER_DAY, errors)
    await _references(session, values, errors)
    if "slug" not in errors and await _slug_taken(session, Service, values["slug"], current):
        errors["slug"] = N_("is already used by another service")
    if errors:
        raise ValidationFailed(errors)
    return values


def _bounded(values: dict[str, Any], name: str, highest: int, errors: dict[str, str | Message]) -> None:
    value = values.get(name)
    if not isinstance(value, int):
        errors[name] = REQUIRED
    elif not 1 <= value <= highest:
        errors[name] = message(N_("must be between 1 and %(highest)s"), highest=str(highest))


def _quantities(values: dict[str, Any], errors: dict[str, str | Message]) -> None:
    low, high = values.get("min_quantity"), values.get("max_quantity")
    if not isinstance(low, int):
        errors["min_quantity"] = REQUIRED
    elif low < 1:
        errors["min_quantity"] = N_("must be at least 1")
    if not isinstance(high, int):
        errors["max_quantity"] = REQUIRED
    elif isinstance(low, int) and high < low:
        errors["max_quantity"] = N_("must not be below the minimum")


async def _references(session: AsyncSession, values: dict[str, Any], errors: dict[str, str | Message]) -> None:
    category_id = values.get("category_id")
    if category_id is None:
        errors["category_id"] = REQUIRED
    elif await session.get(Category, category_id) is None:
        errors["category_id"] = N_("does not exist")
    upstream_id = values.get("provider_service_id")
    if upstream_id is not None and await session.get(ProviderService, upstream_id) is None:
        errors["provider_service_id"] = N_("does not exist")
