"""Provider commands: set up a provider, change its settings, and take in what it reports (services, balance).

Rules: a unique name; an API address unless the provider is worked manually (http/https for SMM panels); an
ISO 4217 currency; a positive EUR rate for margins; a low-balance threshold that is not negative. The API key
is kept as it is when a face does not pass one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.catalog.commands import set_services_active
from app.catalog.models import Service
from app.editing import create_record, lock_record, update_record
from app.errors import ValidationFailed
from app.fulfillment.alerts import AlertTopic, alert_staff
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.i18n import N_, Message
from app.uow import UnitOfWork
from app.validation import normalise_currency, normalise_web_url

PROVIDER = "provider"
PROVIDER_FIELDS = (
    "name",
    "kind",
    "api_url",
    "api_key",
    "currency",
    "low_balance_threshold",
    "eur_per_unit",
    "is_active",
    "notes",
)
REQUIRED = N_("is required")


def _api_url(values: dict[str, Any], errors: dict[str, str | Message]) -> None:
    url = (values.get("api_url") or "").strip() or None
    values["api_url"] = url
    kind = values.get("kind")
    if url is None:
        if kind is not None and kind != ProviderKind.MANUAL:
            errors["api_url"] = N_("is required unless the provider is worked manually")
    elif kind == ProviderKind.SMM_V2:
        try:
            values["api_url"] = normalise_web_url(url)
        except ValueError:
            errors["api_url"] = N_("use a web address starting with https:// or http://")


def _amounts(values: dict[str, Any], errors: dict[str, str | Message]) -> None:
    threshold = values.get("low_balance_threshold")
    if threshold is None:
        values["low_balance_threshold"] = Decimal("0.00")
    elif threshold < 0:
        errors["low_balance_threshold"] = N_("must not be negative")
    rate = values.get("eur_per_unit")
    if rate is None:
        errors["eur_per_unit"] = REQUIRED
    elif rate <= 0:
        errors["eur_per_unit"] = N_("must be more than 0 (1 for a provider billing in EUR)")


async def clean_provider(session: AsyncSession, proposed: dict[str, Any], current: Provider | None) -> dict[str, Any]:
    values: dict[str, Any] = {"currency": "USD", "eur_per_unit": Decimal(1), "is_active": True, **proposed}
    errors: dict[str, str | Message] = {}
    values["name"] = (values.get("name") or "").strip()
    if not values["name"]:
        errors["name"] = REQUIRED
    try:
        values["kind"] = ProviderKind(str(values.get("kind")))
    except ValueError:
        errors["kind"] = N_("is not one of the choices")
        values["kind"] = None
    _api_url(values, errors)
    try:
        values["currency"] = normalise_currency(str(values.get("currency") or ""))
    except ValueError:
        errors["currency"] = N_("use an ISO 4217 currency code such as EUR or USD")
    _amounts(values, errors)
    notes = values.get("notes")
    values["notes"] = notes if isinstance(notes, str) and notes.strip() else None  # free text stays as typed
    if values["name"] and await _name_taken(session, values["name"], current):
        errors["name"] = N_("is already used by another provider")
    if errors:
        raise ValidationFailed(errors)
    return values


async def _name_taken(session: AsyncSession, name: str, current: Provider | None) -> bool:
    stmt = sa.select(Provider.id).where(Provider.name == name)
    if current is not None:
        stmt = stmt.where(Provider.id != current.id)
    with session.no_autoflush:
        return await session.scalar(stmt.limit(1)) is not None


async def create_provider(uow: UnitOfWork, *, values: Mapping[str, Any], actor: Actor) -> Provider:
    return await create_record(
        uow, Provider, entity_type=PROVIDER, fields=PROVIDER_FIELDS, values=values, clean=clean_provider, actor=actor
    )


async def update_provider(
    uow: UnitOfWork, *, provider_id: int, values: Mapping[str, Any], actor: Actor, version: str | None = None
) -> Provider:
    """Change the provider's settings; without an ``api_key`` (or with an empty one) the stored key stays."""
    if not values.get("api_key"):
        values = {name: value for name, value in values.items() if name != "api_key"}
    return await update_record(
        uow,
        Provider,
        provider_id,
        entity_type=PROVIDER,
        fields=PROVIDER_FIELDS,
        values=values,
        clean=clean_provider,
        actor=actor,
        version=version,
    )


@dataclass(frozen=True)
class UpstreamService:
    """One entry of a provider's ``services`` list (API v2), parsed."""

    external_id: str
    name: str
    rate: Decimal  # per 1000 (per package for Package services), in the provider's currency
    min_quantity: int
    max_quantity: int
    type: str = "Default"
    category: str | None = None
    refill: bool = False
    cancel: bool = False


async def sync_provider_services(
    uow: UnitOfWork, *, provider_id: int, listed: Sequence[UpstreamService], actor: Actor
) -> list[ProviderService]:
    """Take the provider's current service list: add new entries, update known ones, mark vanished ones unlisted.

    Entries are never deleted: our services and past lines keep pointing at them. Our active services fulfilled
    by an entry the provider no longer lists are deactivated (nothing could be dispatched for them); a changed
    rate is flagged to staff (our prices and margins may need a look). Both raise a staff alert.
    """
    provider = await lock_record(uow.session, Provider, provider_id)
    rows = await uow.session.scalars(
        sa.select(ProviderService)
        .where(ProviderService.provider_id == provider_id)
        .order_by(ProviderService.id)
        .with_for_update(of=ProviderService)
    )
    known = {row.external_id: row for row in rows}
    now = uow.now()
    added = 0
    rate_changes: list[tuple[ProviderService, Decimal]] = []
    for item in listed:
        row = known.get(item.external_id)
        if row is None:
            row = ProviderService(provider_id=provider_id, external_id=item.external_id)
            uow.session.add(row)
            known[item.external_id] = row
            added += 1
        elif row.rate is not None and row.rate != item.rate:
            rate_changes.append((row, row.rate))
        for name in ("name", "rate", "min_quantity", "max_quantity", "type", "category", "refill", "cancel"):
            setattr(row, name, getattr(item, name))
        row.is_listed, row.synced_at = True, now
    listed_ids = {item.external_id for item in listed}
    unlisted = [row for external_id, row in known.items() if external_id not in listed_ids and row.is_listed]
    for row in unlisted:
        row.is_listed = False
    provider.services_synced_at = now
    uow.audit(
        actor,
        "sync-provider-services",
        PROVIDER,
        provider_id,
        details={"listed": len(listed), "added": added, "unlisted": [row.external_id for row in unlisted]},
    )
    await uow.flush()
    await _deactivate_removed(uow, provider, unlisted, actor)
    await _flag_rate_changes(uow, provider, rate_changes, actor)
    return list(known.values())


async def _catalog_services(uow: UnitOfWork, upstream_ids: Sequence[int]) -> dict[int, list[Service]]:
    rows = await uow.session.scalars(
        sa.select(Service).where(Service.provider_service_id.in_(upstream_ids)).order_by(Service.id)
    )
    by_upstream: dict[int, list[Service]] = {}
    for service in rows.unique():
        if service.provider_service_id is not None:
            by_upstream.setdefault(service.provider_service_id, []).append(service)
    return by_upstream


async def _deactivate_removed(
    uow: UnitOfWork, provider: Provider, unlisted: Sequence[ProviderService], actor: Actor
) -> None:
    if not unlisted:
        return
    affected = await _catalog_services(uow, [row.id for row in unlisted])
    active = [service.id for services in affected.values() for service in services if service.is_active]
    deactivated = {s.id for s in await set_services_active(uow, service_ids=active, active=False, actor=actor)}
    for row in unlisted:
        names = [service.slug for service in affected.get(row.id, [])]
        await alert_staff(
            uow,
            actor,
            AlertTopic.PROVIDER_SERVICE_REMOVED,
            "provider-service",
            row.id,
            message=f"{provider.name} no longer lists service #{row.external_id} ({row.name})",
            details={
                "services": names,
                "deactivated": [s.slug for s in affected.get(row.id, []) if s.id in deactivated],
            },
        )
    await uow.flush()


async def _flag_rate_changes(
    uow: UnitOfWork, provider: Provider, changes: Sequence[tuple[ProviderService, Decimal]], actor: Actor
) -> None:
    if not changes:
        return
    affected = await _catalog_services(uow, [row.id for row, _old in changes])
    for row, old_rate in changes:
        await alert_staff(
            uow,
            actor,
            AlertTopic.PROVIDER_RATE_CHANGED,
            "provider-service",
            row.id,
            message=(
                f"{provider.name} changed the rate of service #{row.external_id} ({row.name}) "
                f"from {old_rate} to {row.rate} {provider.currency} per 1000"
            ),
            details={
                "old_rate": old_rate,
                "new_rate": row.rate,
                "services": [service.slug for service in affected.get(row.id, [])],
            },
        )
    await uow.flush()


async def record_provider_balance(uow: UnitOfWork, *, provider_id: int, balance: Decimal, actor: Actor) -> Provider:
    """The balance the provider reported just now (in its currency).

    Falling below the provider's low-balance threshold alerts staff (once, when it falls); rising back above it
    says so too. Holding and resuming its lines is the balance upkeep's part (``app.fulfillment.holds``).
    """
    provider = await lock_record(uow.session, Provider, provider_id)
    uow.track(provider)
    was_low = provider.is_low_on_balance
    provider.balance, provider.balance_synced_at = balance, uow.now()
    uow.audit_changes(actor, "record-provider-balance")
    if provider.is_low_on_balance != was_low:
        low = provider.is_low_on_balance
        await alert_staff(
            uow,
            actor,
            AlertTopic.PROVIDER_BALANCE_LOW if low else AlertTopic.PROVIDER_BALANCE_RESTORED,
            PROVIDER,
            provider.id,
            message=(
                f"{provider.name}: balance {balance} {provider.currency} is below the threshold "
                f"{provider.low_balance_threshold}; new dispatches wait until it is topped up"
                if low
                else f"{provider.name}: balance {balance} {provider.currency} is back above the threshold; "
                "held lines resume"
            ),
            details={"balance": balance, "threshold": provider.low_balance_threshold},
        )
    await uow.flush()
    return provider
