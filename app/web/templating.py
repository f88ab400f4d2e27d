"""The Jinja environment shared by storefront, tracking page and portal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from app import i18n, states
from app.catalog.models import PLATFORM_LABELS, Platform, PriceBasis
from app.instagram.profiles import snapshots_enabled

APP_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# Folders of APP_TEMPLATES whose partials the back office includes too (admin/mount.py), so staff see what
# clients see.
SHARED_PARTIALS = ("charts", "instagram")


def platform_label(platform: Platform) -> str:
    return PLATFORM_LABELS.get(platform) or i18n.gettext("Other")


class Priced(Protocol):
    """A service or a storefront offer (app/catalog/services.py): what a price label needs."""

    @property
    def price(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def price_basis(self) -> PriceBasis: ...


def price_label(service: Priced) -> str:
    price = i18n.format_money(service.price, service.currency)
    basis = service.price_basis
    if basis == PriceBasis.PER_1000:
        return i18n.gettext("%(price)s per 1000") % {"price": price}
    if basis == PriceBasis.PER_MONTH:
        return i18n.gettext("%(price)s per month") % {"price": price}
    return price


BADGE_TONES = {"green": "success", "red": "danger", "yellow": "warning", "orange": "warning"}


def state_label(state: Any) -> str:
    """A state's name in the page's language."""
    return message_text(states.label(state))


def state_tone(state: Any) -> str:
    """The storefront badge class for a state (its admin badge colour, in the design system's tones)."""
    entry = states.info(state)
    tone = BADGE_TONES.get(entry.badge) if entry else None
    return f"badge-{tone}" if tone else "badge"


def message_text(text: str | i18n.Message) -> str:
    """A translatable message (a catalog id or a Message with parameters) in the page's language."""
    return i18n.message(text).render(i18n.gettext)


def _configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        format_money=i18n.format_money,
        format_number=i18n.format_number,
        format_datetime=i18n.format_datetime,
        platform_label=platform_label,
        price_label=price_label,
        state_label=state_label,
        state_tone=state_tone,
        message_text=message_text,
        instagram_metrics_shown=snapshots_enabled,
    )


def template_config(extra_dirs: list[Path]) -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=[*extra_dirs, APP_TEMPLATES],
        engine=JinjaTemplateEngine,
        engine_callback=_configure,
    )


def render(request: Request[Any, Any, Any], template_name: str, *, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("company", None)
    context.update(locale=i18n.current_locale.get(), request_path=request.url.path)
    return Template(template_name=template_name, context=context, status_code=status_code)


def render_html(request: Request[Any, Any, Any], template_name: str, **context: Any) -> str:
    """A page as text, with the context ``render`` gives (for pages kept in a cache: no per-request values)."""
    engine = request.app.template_engine
    if engine is None:
        raise RuntimeError("no template engine is configured")
    context.setdefault("company", None)
    context.update(locale=i18n.current_locale.get(), request_path=request.url.path)
    return str(engine.get_template(template_name).render(**context))


async def set_request_locale(request: Request[Any, Any, Any]) -> None:
    """before_request hook: the page language from ?lang=, the lang cookie or Accept-Language."""
    i18n.current_locale.set(
        i18n.negotiate_locale(
            request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language")
        )
    )
