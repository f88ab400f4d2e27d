"""Catalog: categories and services."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqladmin.flash import Flash
from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response

from admin.actions import ActionContext, ActionsMixin, business_action, done_message
from admin.base import FormCommands, SmplatModelView, active_badge, money
from admin.i18n import admin_gettext, lazy
from admin.views.providers import service_margin
from app.catalog import commands
from app.catalog.models import Category, Service
from app.fulfillment.margins import Margin
from app.fulfillment.models import ProviderService
from app.i18n import N_


class CategoryAdmin(SmplatModelView, model=Category):
    name = lazy("Category")
    name_plural = lazy("Categories")
    icon = "fa-solid fa-folder-tree"
    category = lazy("Catalog")
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

    form_commands = FormCommands(commands.create_category, commands.update_category, "category_id")


def price_with_basis(service: Service, attribute: Any) -> Markup:
    basis = {"per_1000": lazy("per 1000"), "per_package": lazy("per package"), "per_month": lazy("per month")}
    return Markup("{} <span class='text-secondary'>{}</span>").format(
        money("price")(service, attribute), basis[service.price_basis.value]
    )


ENGLISH_MISSING = N_("The English description is empty: English-speaking clients see no description.")


class ServiceAdmin(ActionsMixin, SmplatModelView, model=Service):
    name = lazy("Service")
    name_plural = lazy("Services")
    icon = "fa-solid fa-box-open"
    category = lazy("Catalog")
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
    column_labels = {
        Service.name_en: lazy("Name (English)"),
        Service.name_de: lazy("Name (German)"),
        Service.description_de: lazy("Description (German)"),
        Service.description_en: lazy("Description (English)"),
        Service.price: lazy("Price"),
        Service.id: lazy("ID"),
        Service.slug: lazy("Slug"),
        Service.category: lazy("Category"),
        Service.kind: lazy("Kind"),
        Service.currency: lazy("Currency"),
        Service.cancellable: lazy("Cancellable"),
        Service.position: lazy("Position"),
        Service.min_quantity: lazy("Minimum"),
        Service.max_quantity: lazy("Maximum"),
        Service.refill_days: lazy("Refill days"),
        Service.expected_start_hours: lazy("Starts within (hours)"),
        Service.speed_per_day: lazy("Speed (units per day)"),
        Service.is_active: lazy("Active"),
        Service.provider_service: lazy("Provider service"),
    }
    column_searchable_list = [Service.slug, Service.name_de, Service.name_en]
    column_sortable_list = [Service.id, Service.name_en, Service.price, Service.position]
    column_default_sort = [(Service.position, False), (Service.id, False)]
    column_formatters = {Service.price: price_with_basis, Service.is_active: active_badge}
    column_formatters_detail = {Service.price: price_with_basis}
    form_columns = [
        Service.slug,
        Service.category,
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
        Service.expected_start_hours,
        Service.speed_per_day,
        Service.cancellable,
        Service.is_active,
        Service.position,
        Service.provider_service,
    ]
    form_ajax_refs = {"provider_service": {"fields": ("name", "external_id"), "order_by": "id"}}
    form_widget_args = {"description_de": {"rows": 4}, "description_en": {"rows": 4}}
    create_template = "smplat/service_create.html"
    edit_template = "smplat/service_edit.html"
    form_args = {
        "slug": {"description": lazy("Filled in from the German name; change it if you like")},
        # A typical order size: small enough to try, large enough to be worth sending to a provider.
        "min_quantity": {"default": 100},
        "max_quantity": {"default": 10_000},
        "price": {"description": lazy("per 1000 units, per package or per month, by kind")},
        "expected_start_hours": {"description": lazy("The tracking page promises a start within this many hours")},
        "speed_per_day": {"description": lazy("Units delivered per day, for the tracking page's finish estimate")},
    }
    column_export_list = [
        Service.id,
        Service.slug,
        Service.name_de,
        Service.name_en,
        Service.category,
        Service.kind,
        "price_basis",
        Service.price,
        Service.currency,
        Service.min_quantity,
        Service.max_quantity,
        Service.refill_days,
        Service.expected_start_hours,
        Service.speed_per_day,
        Service.is_active,
    ]
    column_export_labels = {"price_basis": lazy("Price basis")}

    form_commands = FormCommands(commands.create_service, commands.update_service, "service_id")

    def form_edit_query(self, request: Request) -> Select[Any]:
        """The provider service and its provider come along: the form shows the cost and margin beside the price."""
        stmt: Select[Any] = super().form_edit_query(request)
        return stmt.options(selectinload(Service.provider_service).selectinload(ProviderService.provider))

    def provider_cost(self, service: Service) -> Margin | None:
        """The saved provider service's cost per our price basis, in EUR (None when it cannot be compared)."""
        upstream = service.provider_service
        if upstream is None:
            return None
        result = service_margin(service, upstream)
        return result if isinstance(result, Margin) else None

    async def after_model_change(
        self, data: dict[str, Any], model: Any, is_created: bool, request: Request
    ) -> Response | None:
        Flash.success(request, admin_gettext(N_("Service %(name)s saved.")) % {"name": model.name_de})
        if not (model.description_en or "").strip():
            Flash.warning(request, admin_gettext(ENGLISH_MISSING))
        return None

    def describe_for_action(self, service: Service) -> str:
        state = admin_gettext(N_("active") if service.is_active else N_("inactive"))
        return f"{service.name_en} ({service.slug}) · {state}"

    @business_action("activate", lazy("Activate"), description=lazy("Shows the services in the storefront."))
    async def activate(self, ctx: ActionContext) -> str:
        changed = await commands.set_services_active(ctx.uow, service_ids=ctx.pks, active=True, actor=ctx.actor)
        ctx.results.extend(service.slug for service in changed)
        return done_message(N_("Services activated: %(items)s"), [str(len(changed))])

    @business_action(
        "deactivate",
        lazy("Deactivate"),
        description=lazy("Hides the services from the storefront; existing orders are not affected."),
    )
    async def deactivate(self, ctx: ActionContext) -> str:
        changed = await commands.set_services_active(ctx.uow, service_ids=ctx.pks, active=False, actor=ctx.actor)
        ctx.results.extend(service.slug for service in changed)
        return done_message(N_("Services deactivated: %(items)s"), [str(len(changed))])

    @business_action(
        "duplicate",
        lazy("Duplicate"),
        add_in_list=False,
        description=lazy("Creates an inactive copy to adjust before activating it."),
    )
    async def duplicate(self, ctx: ActionContext) -> str:
        copies = await commands.duplicate_services(ctx.uow, service_ids=ctx.pks, actor=ctx.actor)
        ctx.results.extend(copy.slug for copy in copies)
        return done_message(N_("Created (inactive): %(items)s"), ctx.results)
