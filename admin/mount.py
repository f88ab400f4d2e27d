"""SQLAdmin inside Litestar: the admin is a Starlette app mounted at /admin."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send
from sqladmin import Admin
from sqladmin.authentication import login_required
from sqladmin.i18n import I18nConfig, get_locale
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin import sqladmin_compat as compat
from admin.auth import LANGUAGE_COOKIE, StaffAuthBackend
from admin.base import badge_html, human_age
from admin.csrf import CSRFMiddleware, template_globals
from admin.i18n import admin_gettext, admin_ngettext, lazy
from admin.labels import event_label, event_note, event_provider_error, role_label
from admin.pages.dashboard import DashboardView
from admin.registry import ADMIN_VIEWS, configure_admin
from admin.roles import RoleAuthorization, roles_for_request
from app import i18n
from app.config import Settings
from app.date_input import DAY_PATTERN, MONTH_PATTERN, day_input_value, month_input_value
from app.i18n import N_
from app.payments.gateway import PaymentGateway
from app.web.templating import APP_TEMPLATES, SHARED_PARTIALS

log = structlog.get_logger(__name__)

BASE_URL = "/admin"
TEMPLATES = Path(__file__).resolve().parent / "templates"


def admin_secret(settings: Settings) -> str:
    return hashlib.sha256(b"smplat:admin-session:" + settings.secret_key.encode()).hexdigest()


class SmplatAdmin(Admin):
    settings: Settings

    @login_required
    async def index(self, request: Request) -> Response:
        """The dashboard is the landing page, for every role that may see it."""
        view = next(v for v in self.views if isinstance(v, DashboardView))
        if not view.is_accessible(request):
            raise HTTPException(status_code=403)
        return await view.render(request)

    async def logout(self, request: Request) -> Response:
        """Logging out is a POST with the CSRF token (the user menu's button); a GET — an old bookmark, a link
        prefetched or planted on another page — only asks, and logs nobody out."""
        if request.method == "POST":
            return await super().logout(request)
        backend = self.authentication_backend
        if backend is None or not await backend.authenticate(request):
            return RedirectResponse(request.url_for("admin:login"), status_code=302)
        return await self.templates.TemplateResponse(request, "smplat/logout.html", {"title": lazy("Log out")})


def build_admin(
    settings: Settings, db_config: SQLAlchemyAsyncConfig, payment_gateway: PaymentGateway | None = None
) -> tuple[Starlette, SmplatAdmin]:
    outer = Starlette()
    session_maker = async_sessionmaker(db_config.get_engine(), expire_on_commit=False)
    admin = SmplatAdmin(
        outer,
        session_maker=session_maker,
        base_url=BASE_URL,
        title="SMPLaT",
        favicon_url="/static/favicon.svg",
        templates_dir=str(TEMPLATES),
        authentication_backend=StaffAuthBackend(admin_secret(settings), session_maker, https_only=settings.is_prod),
        authorization_backend=RoleAuthorization(),
        i18n_config=I18nConfig(
            default_locale="de", language_switcher=["de", "en"], language_cookie_name=LANGUAGE_COOKIE
        ),
    )
    admin.settings = settings
    # Actions that move money (refunds) find the processor here: ``ActionContext.payments``.
    compat.starlette_app(admin).state.payment_gateway = payment_gateway

    async def server_error_page(request: Request, _exc: Exception) -> Response:
        """The admin's 500 page (Starlette answers with it, then re-raises: the mount logs the error once)."""
        context = {
            "status_code": 500,
            "message": admin_gettext(N_("We could not complete your request. Please try again in a moment.")),
        }
        return await admin.templates.TemplateResponse(request, "sqladmin/error.html", context, status_code=500)

    compat.starlette_app(admin).exception_handlers[Exception] = server_error_page
    # Innermost, after the session middleware: the token is checked against the signed session.
    compat.starlette_app(admin).user_middleware.append(Middleware(CSRFMiddleware))
    env: Any = admin.templates.env
    shared = PrefixLoader({folder: FileSystemLoader(APP_TEMPLATES / folder) for folder in SHARED_PARTIALS})
    env.loader = ChoiceLoader([env.loader, shared])
    env.install_gettext_callables(admin_gettext, admin_ngettext, newstyle=True)
    env.globals.update(
        template_globals(),
        **compat.template_globals(),
        badge=badge_html,
        event_label=event_label,
        event_note=event_note,
        event_provider_error=event_provider_error,
        age=human_age,
        format_money=i18n.format_money,
        format_number=lambda value: i18n.format_number(value, admin_locale()),
        format_datetime=i18n.format_datetime,
        format_date=i18n.format_date,
        day_input_value=lambda value: day_input_value(value, admin_locale()),
        day_pattern=DAY_PATTERN,
        month_input_value=lambda value: month_input_value(value, admin_locale()),
        month_pattern=MONTH_PATTERN,
        roles_for_request=roles_for_request,
        role_label=role_label,
    )
    for view in ADMIN_VIEWS:
        admin.add_view(view)
    configure_admin(admin)
    return outer, admin


def admin_locale() -> str:
    return get_locale()


def create_admin_mount(
    settings: Settings, db_config: SQLAlchemyAsyncConfig, payment_gateway: PaymentGateway | None = None
) -> ASGIRouteHandler:
    outer, _admin = build_admin(settings, db_config, payment_gateway)

    @asgi(BASE_URL, is_mount=True, copy_scope=True, include_in_schema=False)
    async def admin_app(scope: Scope, receive: Receive, send: Send) -> None:
        # Litestar hands a mount the stripped (and slash-normalised) path; SQLAdmin's router expects the
        # original path as Starlette would see it, so restore it from raw_path.
        # raw_path is the path only (ASGI spec), but some clients (Litestar's test transport) append "?query".
        raw_path = (scope.get("raw_path") or b"").split(b"?", 1)[0]
        scope["path"] = unquote(raw_path.decode("latin-1")) if raw_path else BASE_URL + scope["path"].rstrip("/")
        scope["root_path"] = ""
        # Starlette's FileResponse would answer with granian's zero-copy "pathsend", which bypasses (and
        # breaks) Litestar's gzip middleware; without the extension it streams the body normally.
        extensions = scope.get("extensions") or {}
        scope["extensions"] = {key: value for key, value in extensions.items() if key != "http.response.pathsend"}
        response_started = False

        async def tracking_send(message: Any) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await outer(scope, receive, tracking_send)  # type: ignore[arg-type]
        except Exception:
            if not response_started:
                raise  # Litestar's error handler logs it and answers
            # Starlette has answered with the 500 page and re-raises for the server to log: log it here, once.
            log.exception("admin request failed", path=scope["path"])

    return admin_app
