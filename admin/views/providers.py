"""Upstream providers and their synced service lists."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin.i18n import get_locale
from sqlalchemy.orm import undefer
from starlette.requests import Request
from wtforms import PasswordField

from admin.attention import ConditionFilter
from admin.base import FormCommands, ReadOnlyView, SmplatModelView, active_badge, money, when
from admin.i18n import admin_gettext, lazy
from app import i18n
from app.catalog.models import PriceBasis, Service
from app.fulfillment.attention import low_balance_condition
from app.fulfillment.credentials import KeyState, key_state
from app.fulfillment.margins import BASE_CURRENCY, Margin, NotComparable, margin
from app.fulfillment.models import Provider, ProviderService
from app.providers.commands import create_provider, update_provider


def balance(provider: Provider, _attribute: Any) -> Markup:
    if provider.balance is None:
        return Markup('<span class="text-secondary">–</span>')
    shown = i18n.format_money(provider.balance, provider.currency, get_locale())
    if provider.is_low_on_balance:
        return Markup('{} <span class="badge bg-red-lt" data-testid="low-balance">{}</span>').format(
            shown, lazy("low balance")
        )
    return Markup("{}").format(shown)


def api_key_state(provider: Provider, _attribute: Any) -> Markup:
    """Whether a key is stored and readable; never the key itself."""
    state = key_state(provider.api_key)
    if state is KeyState.UNREADABLE:
        return Markup('<span class="badge bg-red-lt" data-testid="api-key-unreadable">{}</span>').format(
            lazy("key unreadable — enter it again")
        )
    if state is KeyState.STORED:
        return Markup('<span data-testid="api-key-stored">{}</span>').format(lazy("stored"))
    return Markup('<span class="text-secondary" data-testid="api-key-missing">–</span>')


class ProviderAdmin(SmplatModelView, model=Provider):
    name = lazy("Provider")
    name_plural = lazy("Providers")
    icon = "fa-solid fa-plug"
    category = lazy("Fulfillment")
    can_delete = False
    column_list = [
        Provider.id,
        Provider.name,
        Provider.kind,
        Provider.balance,
        Provider.currency,
        Provider.balance_synced_at,
        Provider.services_synced_at,
        Provider.is_active,
        "api_key_state",
    ]
    column_export_list = column_list[:-1]  # the key's state is for the page; exports carry no key data
    column_labels = {
        "api_key_state": lazy("API key"),
        Provider.api_key: lazy("API key"),
        Provider.balance_synced_at: lazy("Balance synced"),
        Provider.services_synced_at: lazy("Services synced"),
        Provider.eur_per_unit: lazy("EUR per unit of its currency"),
    }
    column_searchable_list = [Provider.name]
    column_filters = [ConditionFilter("Low balance", "low_balance", low_balance_condition)]
    column_formatters = {
        Provider.balance: balance,
        Provider.is_active: active_badge,
        "api_key_state": api_key_state,
        Provider.balance_synced_at: when("balance_synced_at"),
        Provider.services_synced_at: when("services_synced_at"),
    }
    column_formatters_detail = {
        Provider.balance: balance,
        Provider.low_balance_threshold: money("low_balance_threshold"),
        Provider.api_key: api_key_state,
    }
    column_details_exclude_list = [Provider.services]
    form_excluded_columns = [
        "created_at",
        "updated_at",
        "services",
        "balance",
        "balance_synced_at",
        "services_synced_at",
    ]
    # A password field never renders the stored (decrypted) key; left empty, the key stays as it is.
    form_overrides = {"api_key": PasswordField}
    form_widget_args = {"api_key": {"autocomplete": "new-password", "placeholder": lazy("unchanged unless filled in")}}

    form_commands = FormCommands(create_provider, update_provider, "provider_id")

    # The key is deferred everywhere else; the provider pages ask for it to show its state (never its value).
    def list_query(self, request: Request) -> Any:
        return sa.select(Provider).options(undefer(Provider.api_key))

    def record_statement(self, identifier: str) -> Any:
        return super().record_statement(identifier).options(undefer(Provider.api_key))


BASIS_LABELS = {
    PriceBasis.PER_1000: lazy("per 1000"),
    PriceBasis.PER_PACKAGE: lazy("per package"),
    PriceBasis.PER_MONTH: lazy("per month"),
}


def service_margin(service: Service, upstream: ProviderService) -> Margin | NotComparable:
    """Our service's price against the upstream service's rate (its provider loaded)."""
    return margin(
        price=service.price,
        basis=service.price_basis,
        currency=service.currency,
        upstream_rate=upstream.rate,
        upstream_type=upstream.type,
        eur_per_unit=upstream.provider.eur_per_unit,
    )


def margin_cell(upstream: ProviderService, _attribute: Any) -> Markup:
    """The thinnest margin among our services sold through this upstream service, on a like-for-like basis."""
    results = [service_margin(service, upstream) for service in upstream.catalog_services]
    comparable = [result for result in results if isinstance(result, Margin)]
    if not comparable:
        reasons = "; ".join(sorted({admin_gettext(r.reason) for r in results if isinstance(r, NotComparable)}))
        return Markup('<span class="text-secondary" title="{}">–</span>').format(reasons)
    worst = min(comparable, key=lambda m: m.share)
    colour = "green" if worst.share >= 40 else ("yellow" if worst.share >= 15 else "red")
    return Markup('<span class="badge bg-{}-lt">{}%</span> <span class="text-secondary">{} / {} {}</span>').format(
        colour,
        round(worst.share),
        i18n.format_money(worst.price, BASE_CURRENCY, get_locale()),
        i18n.format_money(worst.cost, BASE_CURRENCY, get_locale()),
        BASIS_LABELS[worst.basis],
    )


class ProviderServiceAdmin(ReadOnlyView, model=ProviderService):
    name = lazy("Provider service")
    name_plural = lazy("Provider services")
    icon = "fa-solid fa-layer-group"
    category = lazy("Fulfillment")
    column_list = [
        ProviderService.provider,
        ProviderService.external_id,
        ProviderService.name,
        ProviderService.type,
        ProviderService.rate,
        ProviderService.min_quantity,
        ProviderService.max_quantity,
        ProviderService.refill,
        "margin",
    ]
    column_labels = {"margin": lazy("Margin (our price / cost)"), ProviderService.rate: lazy("Rate per 1000")}
    column_searchable_list = [ProviderService.name, ProviderService.external_id]
    column_sortable_list = [ProviderService.external_id, ProviderService.rate]
    column_formatters = {"margin": margin_cell, ProviderService.rate: money("rate", "provider.currency")}
    column_export_list = [
        "provider.name",
        ProviderService.external_id,
        ProviderService.name,
        ProviderService.type,
        ProviderService.rate,
        "provider.currency",
        ProviderService.min_quantity,
        ProviderService.max_quantity,
        ProviderService.refill,
    ]
    column_export_labels = {"provider.name": lazy("Provider"), "provider.currency": lazy("Currency")}
