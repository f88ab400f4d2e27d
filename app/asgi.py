"""The ASGI application: ``create_app()`` wires settings, database, routes, admin, templates and errors."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router

from app.analytics.funnel import FunnelBuffer
from app.config import ConfigError, Settings, get_settings, use_settings
from app.db.engine import alchemy_config
from app.observability import configure_logging
from app.payments.stripe_gateway import gateway_from_settings
from app.web.errors import EXCEPTION_HANDLERS
from app.web.health import health, ready
from app.web.middleware import EdgeMiddleware
from app.web.templating import set_request_locale, template_config
from app.web.webhooks import delivery_slots, stripe_webhook
from storefront.cached_pages import CachedPages
from storefront.checkout import CheckoutController
from storefront.controllers import StorefrontController
from storefront.links import CheckoutLinkController
from storefront.page_cache import PageCache
from storefront.portal import PortalController
from storefront.portal_metrics import PortalMetricsController
from storefront.portal_privacy import PortalPrivacyController
from storefront.portal_profile import PortalProfileController
from storefront.refills import RefillController
from storefront.tracking import TrackingController
from storefront.tracking_pages import tracking_pages
from storefront.unsubscribe import UnsubscribeController

STATIC_DIR = Path(__file__).resolve().parent / "static"
STOREFRONT_TEMPLATES = Path(__file__).resolve().parents[1] / "storefront" / "templates"
STOREFRONT_LANGUAGE_COOKIE = "lang"


def openapi_config(settings: Settings) -> OpenAPIConfig | None:
    """The OpenAPI schema as JSON at /schema (and /schema/openapi.json) in dev and test; none in production.

    No documentation UI: Litestar's UIs load their scripts from a CDN.
    """
    if settings.is_prod:
        return None
    return OpenAPIConfig(title="SMPLaT", version="0.1.0", path="/schema", render_plugins=[JsonRenderPlugin()])


def freeze_startup_objects() -> None:
    """Move what startup built (modules, mappers, templates: ~170k objects) out of the collector's reach.

    Otherwise every full collection walks them all: ~110 ms, about once per 30-50 admin list pages.
    """
    gc.collect()
    gc.freeze()


async def start_funnel_writer(app: Litestar) -> None:
    app.state.funnel.start(app.state.alchemy_config.get_engine())


async def stop_funnel_writer(app: Litestar) -> None:
    """Write the last buffered page views, then close the pool: shutdown hooks run after the database plugin has
    closed it, so the final write opened a connection that nothing else would close."""
    engine = app.state.alchemy_config.get_engine()
    await app.state.funnel.stop(engine)
    await engine.dispose()


async def close_payment_gateway(app: Litestar) -> None:
    gateway = app.state.get("payment_gateway")
    if gateway is not None:
        await gateway.aclose()


WEBHOOK_PATHS = "^/webhooks/"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    use_settings(settings)
    configure_logging(settings)
    if not settings.database_url:
        raise ConfigError(
            "SMPLAT_DATABASE_URL is not set: start the app with `smplat serve` or `smplat demo`, "
            "which start the embedded database, or set SMPLAT_DATABASE_URL"
        )
    db_config = alchemy_config(settings.database_url)
    # Imported here: the admin module builds SQLAdmin views over every model at import time.
    from admin.auth import LANGUAGE_COOKIE  # noqa: PLC0415
    from admin.mount import BASE_URL, create_admin_mount  # noqa: PLC0415

    payment_gateway = gateway_from_settings(settings)
    admin_mount = create_admin_mount(settings, db_config, payment_gateway)
    app = Litestar(
        route_handlers=[
            health,
            ready,
            StorefrontController,
            CheckoutController,
            CheckoutLinkController,
            TrackingController,
            RefillController,
            PortalController,
            PortalProfileController,
            PortalMetricsController,
            UnsubscribeController,
            PortalPrivacyController,
            stripe_webhook,
            admin_mount,
            create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False),
        ],
        plugins=[SQLAlchemyPlugin(config=db_config)],
        on_startup=[freeze_startup_objects, start_funnel_writer],
        on_shutdown=[stop_funnel_writer, close_payment_gateway],
        before_request=set_request_locale,
        template_config=template_config([STOREFRONT_TEMPLATES]),
        exception_handlers=EXCEPTION_HANDLERS,
        # Webhook answers are a few bytes: no gzip stream set up (and dropped) for each delivery.
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, exclude=WEBHOOK_PATHS),
        openapi_config=openapi_config(settings),
        logging_config=None,
        debug=False,
    )
    app.state.settings = settings
    app.state.payment_gateway = payment_gateway
    app.state.webhook_slots = delivery_slots()
    app.state.alchemy_config = db_config
    app.state.page_cache = PageCache()
    app.state.tracking_pages = tracking_pages()
    app.state.funnel = FunnelBuffer()

    def language_cookies(path: str) -> tuple[str, ...]:
        in_admin = path == BASE_URL or path.startswith(BASE_URL + "/")
        return (LANGUAGE_COOKIE,) if in_admin else (STOREFRONT_LANGUAGE_COOKIE,)

    # Cached catalog pages are answered before routing (storefront/cached_pages.py), inside the edge.
    pages = CachedPages(
        app.asgi_handler, app.state.page_cache, db_config.get_engine, app.state.funnel, app.state.tracking_pages
    )
    # Around Litestar's own handler (routing and error pages inside), so it sees every request, routed or not.
    edge: Any = EdgeMiddleware(pages, settings, language_cookies=language_cookies)
    app.asgi_handler = edge
    return app
