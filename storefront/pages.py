"""Pages rendered from more than one route."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncEngine

from app import i18n
from app.catalog.services import ServiceOffer
from app.company.models import CompanySettings
from app.company.services import CompanySettingsService
from app.db.read_only import read_only_session
from app.orders.pricing import line_net
from app.payments.subscribing import MAX_POSTS_PER_PERIOD, MIN_POSTS_PER_PERIOD
from app.web.templating import render
from storefront.choices import LINK_EXAMPLES, countries
from storefront.order_form import OrderForm

EXAMPLE_QUANTITIES = (1000, 5000, 10000)
SERVICE_TEMPLATE = "storefront/service.html"


def service_page_context(
    service: ServiceOffer,
    company: CompanySettings | None,
    *,
    form: OrderForm | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    examples = [
        {"quantity": quantity, "net": line_net(service.kind, service.price, quantity)}
        for quantity in EXAMPLE_QUANTITIES
        if service.min_quantity <= quantity <= service.max_quantity
    ]
    return {
        "service": service,
        "examples": examples,
        "company": company,
        "form": (form or OrderForm()).values(),
        "errors": errors or {},
        "countries": countries(i18n.current_locale.get()),
        "link_placeholder": LINK_EXAMPLES.get(service.category.platform, "https://…"),
        "posts_range": (MIN_POSTS_PER_PERIOD, MAX_POSTS_PER_PERIOD),
    }


async def seller(db_engine: AsyncEngine) -> CompanySettings | None:
    """The company the pages' footer names (read in its own read-only transaction)."""
    async with read_only_session(db_engine) as session:
        return await CompanySettingsService(session=session).current()


def service_page(
    request: Request[Any, Any, Any],
    service: ServiceOffer,
    company: CompanySettings | None,
    *,
    form: OrderForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """A service with its order form: empty, or as the client sent it with what to correct."""
    context = service_page_context(service, company, form=form, errors=errors)
    return render(request, SERVICE_TEMPLATE, status_code=status_code, **context)
