"""Catalog: categories and services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from admin.base import SmplatModelView, active_badge, money
from app.catalog.models import Category, Service
from app.catalog.services import CatalogService


class CategoryAdmin(SmplatModelView, model=Category):
    name = "Category"
    name_plural = "Categories"
    icon = "fa-solid fa-folder-tree"
    category = "Catalog"
    can_delete = False
    column_list = [
        Category.id,
        Category.slug,
        Category.platform,
        Category.name_de,
        Category.name_en,
        Category.position,
        Category.is_active,
    ]
    column_searchable_list = [Category.slug, Category.name_de, Category.name_en]
    column_sortable_list = [Category.position, Category.slug, Category.platform]
    column_default_sort = [(Category.position, False), (Category.id, False)]
    column_formatters = {Category.is_active: active_badge}
    form_excluded_columns = ["created_at", "updated_at", "services"]


class ServiceAdmin(SmplatModelView, model=Service):
    name = "Service"
    name_plural = "Services"
    icon = "fa-solid fa-box-open"
    category = "Catalog"
    can_delete = False
    column_list = [
        Service.id,
        Service.name_en,
        Service.category,
        Service.kind,
        Service.price,
        Service.min_quantity,
        Service.max_quantity,
        Service.refill_days,
        Service.is_active,
    ]
    column_searchable_list = [Service.slug, Service.name_de, Service.name_en]
    column_sortable_list = [Service.id, Service.name_en, Service.price, Service.position]
    column_default_sort = [(Service.position, False), (Service.id, False)]
    column_formatters = {Service.price: money("price"), Service.is_active: active_badge}
    column_formatters_detail = {Service.price: money("price")}
    form_excluded_columns = ["created_at", "updated_at"]
    form_ajax_refs = {"provider_service": {"fields": ("name", "external_id"), "order_by": "id"}}
    column_labels = {Service.price: "Price (per 1000 / package / month)", Service.name_en: "Name"}

    async def validate(self, session: AsyncSession, obj: Any, *, is_created: bool, request: Request) -> None:
        await CatalogService(session=session).check_definition(obj)
