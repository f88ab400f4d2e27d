"""Public pages: landing, catalog, service pages, language choice.

Every page here only reads: its ``db_session`` is a read-only transaction that is rolled back afterwards
(app/db/read_only.py), and the catalog comes as frozen read models (app/catalog/services.py). A page that
will write (checkout, later) opens its own unit of work instead.

The landing page and the catalog are the same for every visitor of a language: they are served from a
per-process cache of rendered pages (storefront/page_cache.py). Views are counted for the funnel without a
database write per view (app/analytics/funnel.py).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
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
from storefront.page_cache import PageCache
from storefront.pages import service_page

FEATURED_COUNT = 6
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

DbSession = NamedDependency[AsyncSession]


async def provide_read_only_session(db_engine: NamedDependency[AsyncEngine]) -> AsyncGenerator[AsyncSession, None]:
    """Replaces the app's read-write ``db_session`` (committed after the response) on every public page."""
    async with read_only_session(db_engine) as session:
        yield session


def record_view(
    request: Request[Any, Any, Any], response: Response[Any], kind: FunnelKind, service_id: int | None = None
) -> None:
    """A page view for the funnel (buffered, see app/analytics/funnel.py), under the visitor's cookie id."""
    visitor_id = funnel.valid_visitor_id(request.cookies.get(funnel.VISITOR_COOKIE))
    if visitor_id is None:
        visitor_id = funnel.new_visitor_id()
        response.set_cookie(
            funnel.VISITOR_COOKIE,
            visitor_id,
            max_age=funnel.VISITOR_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.scope.get("scheme") == "https",
        )
    buffer: FunnelBuffer | None = request.app.state.get("funnel")
    if buffer is not None:
        buffer.record(kind, visitor_id, service_id)


PageRenderer = Callable[[AsyncSession], Awaitable[tuple[str, dict[str, Any]]]]


async def cached_page(
    request: Request[Any, Any, Any], engine: AsyncEngine, page: str, platform: str | None, render_page: PageRenderer
) -> Response[bytes]:
    """The page from this process's cache if the catalog has not changed since it was rendered, else rendered."""
    cache: PageCache = request.app.state.page_cache
    key = (page, platform, i18n.current_locale.get())
    version = await cache.watch.current(engine)
    body = cache.get(key, version)
    if body is None:
        async with read_only_session(engine) as session:
            version = await catalog.catalog_version(session)  # before the data: they are at least this new
            cache.watch.saw(version)
            template, context = await render_page(session)
        body = render_html(request, template, **context).encode()
        cache.put(key, version, body)
    return Response(body, media_type=MediaType.HTML)


def _platforms(categories: list[catalog.CategoryOffers]) -> list[Platform]:
    return sorted({c.platform for c in categories}, key=list(Platform).index)


async def _home(session: AsyncSession) -> tuple[str, dict[str, Any]]:
    categories = await catalog.active_categories(session)
    services = [service for category in categories for service in category.services]
    return "storefront/home.html", {
        "featured": services[:FEATURED_COUNT],
        "platforms": _platforms(categories),
        "company": await CompanySettingsService(session=session).current(),
    }


def _catalog(selected: Platform | None) -> PageRenderer:
    async def render_catalog(session: AsyncSession) -> tuple[str, dict[str, Any]]:
        categories = await catalog.active_categories(session)
        platforms = _platforms(categories)
        if selected is not None:
            categories = [c for c in categories if c.platform == selected]
        return "storefront/services.html", {
            "categories": categories,
            "platforms": platforms,
            "selected_platform": selected,
            "company": await CompanySettingsService(session=session).current(),
        }

    return render_catalog


class StorefrontController(Controller):
    include_in_schema = False
    dependencies = {"db_session": Provide(provide_read_only_session)}

    @get("/")
    async def home(self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Response[bytes]:
        response = await cached_page(request, db_engine, "/", None, _home)
        record_view(request, response, FunnelKind.LANDING_VIEW)
        return response

    @get("/services")
    async def services(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        platform: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[bytes]:
        selected = Platform(platform) if platform in {p.value for p in Platform} else None
        return await cached_page(
            request, db_engine, "/services", selected.value if selected else None, _catalog(selected)
        )

    @get("/services/{slug:str}")
    async def service(
        self, request: Request[Any, Any, Any], db_session: DbSession, slug: FromPath[str]
    ) -> Response[Any]:
        """Not cached: the order form carries a fresh form key (the idempotency key of the order it places)."""
        service = await catalog.active_service(db_session, slug)
        if service is None:
            raise NotFound(N_("This service does not exist or is no longer offered."))
        response = service_page(request, service, await CompanySettingsService(session=db_session).current())
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
