"""Public pages: landing, catalog, service pages, language choice.

Every page here only reads: its ``db_session`` is a read-only transaction that is rolled back afterwards
(app/db/read_only.py), and the catalog comes as frozen read models (app/catalog/services.py). A page that
will write (checkout, later) opens its own unit of work instead.

The landing page and the catalog are the same for every visitor of a language: they are served from a
per-process cache of rendered pages (storefront/page_cache.py). Views are counted for the funnel without a
database write per view (app/analytics/funnel.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Response
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app import i18n
from app.analytics import funnel
from app.analytics.funnel import FunnelBuffer
from app.analytics.models import FunnelKind
from app.catalog import services as catalog
from app.catalog.models import Platform
from app.company.services import CompanySettingsService
from app.db.read_only import read_only_session
from app.errors import NotFound
from app.i18n import LOCALES, N_
from app.web.security import local_path
from app.web.templating import render_html
from storefront.order_form import OrderForm, prefilled
from storefront.page_cache import FORM_KEY_SLOT, CachedPage, PageCache, PageKey, platform_filter, service_path
from storefront.pages import SERVICE_TEMPLATE, service_page_context

FEATURED_COUNT = 6
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def record_view(
    request: Request[Any, Any, Any], response: Response[Any], kind: FunnelKind, service_id: int | None = None
) -> None:
    """A page view for the funnel (buffered, see app/analytics/funnel.py), under the visitor's cookie id."""
    visitor_id = funnel.valid_visitor_id(request.cookies.get(funnel.VISITOR_COOKIE))
    if visitor_id is None:
        visitor_id = funnel.new_visitor_id()
        response.headers["set-cookie"] = funnel.visitor_cookie(visitor_id, secure=request.scope["scheme"] == "https")
    buffer: FunnelBuffer = request.app.state.funnel
    buffer.record(kind, visitor_id, service_id)


# A page's template and context, and the service it shows (service pages), read in the given session.
Rendered = tuple[str, dict[str, Any], int | None]
PageRenderer = Callable[[AsyncSession], Awaitable[Rendered]]


async def cached_page(
    request: Request[Any, Any, Any], engine: AsyncEngine, key: PageKey, render_page: PageRenderer
) -> tuple[Response[bytes], CachedPage]:
    """The page from this process's cache if the catalog has not changed since it was rendered, else rendered
    and stored. Hits usually never get here: storefront/cached_pages.py answers them before routing."""
    cache: PageCache = request.app.state.page_cache
    page = cache.get(key, await cache.watch.current(engine))
    if page is None:
        async with read_only_session(engine) as session:
            version = await catalog.catalog_version(session)  # before the data: they are at least this new
            cache.watch.saw(version)
            template, context, service_id = await render_page(session)
        page = cache.put(key, version, render_html(request, template, **context).encode(), service_id)
    return Response(page.answer(gzipped=False), media_type=MediaType.HTML), page


def _platforms(categories: list[catalog.CategoryOffers]) -> list[Platform]:
    return sorted({c.platform for c in categories}, key=list(Platform).index)


async def _home(session: AsyncSession) -> Rendered:
    categories = await catalog.active_categories(session)
    services = [service for category in categories for service in category.services]
    context = {
        "featured": services[:FEATURED_COUNT],
        "platforms": _platforms(categories),
        "company": await CompanySettingsService(session=session).current(),
    }
    return "storefront/home.html", context, None


def _catalog(selected: Platform | None) -> PageRenderer:
    async def render_catalog(session: AsyncSession) -> Rendered:
        categories = await catalog.active_categories(session)
        platforms = _platforms(categories)
        if selected is not None:
            categories = [c for c in categories if c.platform == selected]
        context = {
            "categories": categories,
            "platforms": platforms,
            "selected_platform": selected,
            "company": await CompanySettingsService(session=session).current(),
        }
        return "storefront/services.html", context, None

    return render_catalog


def _service(slug: str) -> PageRenderer:
    async def render_service(session: AsyncSession) -> Rendered:
        service = await catalog.active_service(session, slug)
        if service is None:
            raise NotFound(N_("This service does not exist or is no longer offered."))
        company = await CompanySettingsService(session=session).current()
        # Stored with a slot where the form key goes: each answer gets a fresh key (CachedPage.answer).
        context = service_page_context(service, company, form=OrderForm(form_key=FORM_KEY_SLOT))
        return SERVICE_TEMPLATE, context, service.id

    return render_service


class StorefrontController(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Response[bytes]:
        response, _page = await cached_page(request, db_engine, ("/", None, i18n.current_locale.get()), _home)
        record_view(request, response, FunnelKind.LANDING_VIEW)
        return response

    @get("/services")
    async def services(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        platform: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[bytes]:
        selected = platform_filter(platform)
        key = ("/services", selected, i18n.current_locale.get())
        response, _page = await cached_page(request, db_engine, key, _catalog(Platform(selected) if selected else None))
        return response

    @get("/services/{slug:str}")
    async def service(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        slug: FromPath[str],
        link: Annotated[str | None, QueryParameter(max_length=2000)] = None,
        quantity: Annotated[str | None, QueryParameter(max_length=12)] = None,
    ) -> Response[bytes]:
        if link is not None or quantity is not None:
            return await self._prefilled_service(request, db_engine, slug, link, quantity)
        key = (service_path(slug), None, i18n.current_locale.get())
        response, page = await cached_page(request, db_engine, key, _service(slug))
        record_view(request, response, FunnelKind.SERVICE_VIEW, page.service_id)
        return response

    @staticmethod
    async def _prefilled_service(
        request: Request[Any, Any, Any], engine: AsyncEngine, slug: str, link: str | None, quantity: str | None
    ) -> Response[bytes]:
        """The service page with its order form filled from the query ("Order again"), rendered for this request."""
        async with read_only_session(engine) as session:
            service = await catalog.active_service(session, slug)
            if service is None:
                raise NotFound(N_("This service does not exist or is no longer offered."))
            company = await CompanySettingsService(session=session).current()
        context = service_page_context(service, company, form=prefilled(service, link, quantity))
        response = Response(render_html(request, SERVICE_TEMPLATE, **context).encode(), media_type=MediaType.HTML)
        record_view(request, response, FunnelKind.SERVICE_VIEW, service.id)
        return response

    @get("/lang/{code:str}")
    async def choose_language(
        self, code: FromPath[str], next_path: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Redirect:
        response = Redirect(path=local_path(next_path))
        if code in LOCALES:
            response.set_cookie("lang", code, max_age=LANG_COOKIE_MAX_AGE, samesite="lax", httponly=True)
        return response
