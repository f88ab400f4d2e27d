"""SQLAdmin inside Litestar: the admin is a Starlette app mounted at /admin."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import unquote

import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send
from sqladmin import Admin
from sqladmin.i18n import I18nConfig
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware

from admin.auth import StaffAuthBackend
from admin.csrf import CSRFMiddleware, template_globals
from admin.registry import ADMIN_VIEWS, configure_admin
from admin.roles import RoleAuthorization
from app.config import Settings

log = structlog.get_logger(__name__)

BASE_URL = "/admin"
TEMPLATES = Path(__file__).resolve().parent / "templates"


def admin_secret(settings: Settings) -> str:
    return hashlib.sha256(b"smplat:admin-session:" + settings.secret_key.encode()).hexdigest()


def build_admin(settings: Settings, db_config: SQLAlchemyAsyncConfig) -> tuple[Starlette, Admin]:
    outer = Starlette()
    session_maker = async_sessionmaker(db_config.get_engine(), expire_on_commit=False)
    admin = Admin(
        outer,
        session_maker=session_maker,
        base_url=BASE_URL,
        title="SMPLaT",
        templates_dir=str(TEMPLATES),
        authentication_backend=StaffAuthBackend(admin_secret(settings), session_maker, https_only=settings.is_prod),
        authorization_backend=RoleAuthorization(),
        middlewares=[Middleware(CSRFMiddleware)],
        i18n_config=I18nConfig(
            default_locale="de", language_switcher=["de", "en"], language_cookie_name="smplat_admin_lang"
        ),
    )
    admin.templates.env.globals.update(template_globals())
    for view in ADMIN_VIEWS:
        admin.add_view(view)
    configure_admin(admin)
    return outer, admin


def create_admin_mount(settings: Settings, db_config: SQLAlchemyAsyncConfig) -> ASGIRouteHandler:
    outer, _admin = build_admin(settings, db_config)

    @asgi(BASE_URL, is_mount=True, copy_scope=True, include_in_schema=False)
    async def admin_app(scope: Scope, receive: Receive, send: Send) -> None:
        # Litestar hands a mount the stripped (and slash-normalised) path; SQLAdmin's router expects the
        # original path as Starlette would see it, so restore it from raw_path.
        raw_path = scope.get("raw_path")
        scope["path"] = unquote(raw_path.decode("latin-1")) if raw_path else BASE_URL + scope["path"].rstrip("/")
        scope["root_path"] = ""
        try:
            await outer(scope, receive, send)  # type: ignore[arg-type]
        except Exception:
            log.exception("admin request failed", path=scope["path"])
            raise

    return admin_app
