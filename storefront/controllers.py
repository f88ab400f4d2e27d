"""Public pages: landing, catalog, service pages, language choice.

Every page here only reads: its ``db_session`` is a read-only transaction that is rolled back afterwards
(app/db/read_only.py), and the catalog comes as frozen read models (app/catalog/services.py). A page that
will write (checkout, later) opens its own unit of work instead.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.catalog import services as catalog
from app.catalog.models import Platform
from app.company.services import CompanySettingsService
from app.db.read_only import read_only_session
from app.errors import NotFound
from app.i18n import LOCALES, N_
from app.web.security import local_path
from app.web.templating import render
from storefront.pages import service_page

FEATURED_COUNT = 6
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

DbSession = NamedDependency[AsyncSession]


async def provide_read_only_session(db_engine: NamedDependency[AsyncEngine]) -> AsyncGenerator[AsyncSession, None]:
    """Replaces the app's read-write ``db_session`` (committed after the response) on every public page."""
    async with read_only_session(db_engine) as session:
        yield session


class StorefrontController(Controller):
    include_in_schema = False
    dependencies = {"db_session": Provide(provide_read_only_session)}

    @get("/")
    async def home(self, request: Request[Any, Any, Any], db_session: DbSession) -> Template:
        categories = await catalog.active_categories(db_session)
        services = [service for category in categories for service in category.services]
        return render(
            request,
            "storefront/home.html",
            featured=services[:FEATURED_COUNT],
            platforms=sorted({c.platform for c in categories}, key=list(Platform).index),
            company=await CompanySettingsService(session=db_session).current(),
        )

    @get("/services")
    async def services(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        platform: Annotated[str | None, QueryParameter()] = None,
    ) -> Template:
        categories = await catalog.active_categories(db_session)
        platforms = sorted({c.platform for c in categories}, key=list(Platform).index)
        selected = Platform(platform) if platform in {p.value for p in Platform} else None
        if selected is not None:
            categories = [c for c in categories if c.platform == selected]
        return render(
            request,
            "storefront/services.html",
            categories=categories,
            platforms=platforms,
            selected_platform=selected,
            company=await CompanySettingsService(session=db_session).current(),
        )

    @get("/services/{slug:str}")
    async def service(self, request: Request[Any, Any, Any], db_session: DbSession, slug: FromPath[str]) -> Template:
        service = await catalog.active_service(db_session, slug)
        if service is None:
            raise NotFound(N_("This service does not exist or is no longer offered."))
        return service_page(request, service, await CompanySettingsService(session=db_session).current())

    @get("/lang/{code:str}")
    async def choose_language(
        self, code: FromPath[str], next_path: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Redirect:
        response = Redirect(path=local_path(next_path))
        if code in LOCALES:
            response.set_cookie("lang", code, max_age=LANG_COOKIE_MAX_AGE, samesite="lax", httponly=True)
        return response
