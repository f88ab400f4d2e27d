"""Take in what providers report: their service list and balance (``smplat providers sync``).

Per provider: ask its API (outside any transaction: no row stays locked while a panel is slow), then apply the
answers in one unit of work through ``sync_provider_services`` and ``record_provider_balance``. One provider
failing (unreachable, refusing, answering nonsense) is reported and leaves its rows as they were; the others
are synced all the same.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.errors import DomainError
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.i18n import N_
from app.providers.clients import client_for
from app.providers.commands import UpstreamService, record_provider_balance, sync_provider_services
from app.providers.smm_v2 import ListedService, SmmV2Client, SmmV2Error, Timeouts
from app.uow import UnitOfWork, unit_of_work
from app.validation import column_errors

RATE_PLACES = Decimal("0.0001")  # provider_service.rate
BALANCE_PLACES = Decimal("0.0001")  # provider.balance


class UnusableReport(DomainError):
    """The provider answered in API v2's shape, but with values our tables cannot hold."""

    code = "unusable_provider_report"
    title = N_("Provider data refused")


@dataclass(frozen=True)
class ProviderReport:
    services: tuple[UpstreamService, ...]
    balance: Decimal
    currency: str | None


def _fit(text: str | None, column: str) -> str | None:
    """Display text from a provider, cut to its column's length (names of 300+ characters exist)."""
    if text is None:
        return None
    length = getattr(ProviderService.__table__.c[column].type, "length", None)
    return text if length is None or len(text) <= length else text[: length - 1] + "…"


def upstream_service(listed: ListedService) -> UpstreamService:
    """A listed service as ``sync_provider_services`` takes it.

    Rates are kept to 4 places, rounded up (a cost is never understated in margins); anything else our columns
    cannot hold is refused with the service named.
    """
    service = UpstreamService(
        external_id=listed.service_id,
        name=_fit(listed.name, "name") or listed.service_id,
        rate=listed.rate.quantize(RATE_PLACES, rounding=ROUND_UP),
        min_quantity=listed.min_quantity,
        max_quantity=listed.max_quantity,
        type=_fit(listed.type, "type") or "Default",
        category=_fit(listed.category, "category"),
        refill=listed.refill,
        cancel=listed.cancel,
    )
    errors = column_errors(ProviderService, dataclasses.asdict(service))
    if errors:
        problems = "; ".join(f"{name}: {text}" for name, text in errors.items())
        raise UnusableReport(N_("service %(service)s: %(problems)s"), service=listed.service_id, problems=problems)
    return service


async def fetch_report(client: SmmV2Client) -> ProviderReport:
    """``services`` and ``balance`` from the provider (raises the client's errors, or UnusableReport)."""
    listed = await client.services()
    balance = await client.balance()
    amount = balance.amount.quantize(BALANCE_PLACES, rounding=ROUND_HALF_UP)
    errors = column_errors(Provider, {"balance": amount})
    if errors:
        raise UnusableReport(N_("balance %(balance)s: %(problem)s"), balance=balance.amount, problem=errors["balance"])
    return ProviderReport(tuple(upstream_service(s) for s in listed.services), amount, balance.currency)


@dataclass(frozen=True)
class SyncOutcome:
    provider: str
    services: int = 0
    added: int = 0
    unlisted: int = 0
    balance: Decimal | None = None
    currency: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        if self.error is not None:
            return f"{self.provider}: not synced: {self.error}"
        return (
            f"{self.provider}: {self.services} services ({self.added} new, {self.unlisted} no longer listed), "
            f"balance {self.balance} {self.currency}"
        )


async def apply_report(uow: UnitOfWork, *, provider_id: int, report: ProviderReport, actor: Actor) -> SyncOutcome:
    """Record the report through the provider commands (inside the caller's unit of work)."""
    provider = await uow.session.get(Provider, provider_id)
    if provider is None:
        raise DomainError(N_("Provider %(id)s does not exist"), id=provider_id)
    if report.currency and report.currency != provider.currency:
        raise UnusableReport(
            N_("the provider reports its balance in %(reported)s, but is set up as billing in %(currency)s"),
            reported=report.currency,
            currency=provider.currency,
        )
    before = dict(
        (
            await uow.session.execute(
                sa.select(ProviderService.external_id, ProviderService.is_listed).where(
                    ProviderService.provider_id == provider_id
                )
            )
        )
        .tuples()
        .all()
    )
    await sync_provider_services(uow, provider_id=provider_id, listed=report.services, actor=actor)
    await record_provider_balance(uow, provider_id=provider_id, balance=report.balance, actor=actor)
    listed = {service.external_id for service in report.services}
    return SyncOutcome(
        provider=provider.name,
        services=len(listed),
        added=len(listed - before.keys()),
        unlisted=sum(1 for external_id, was_listed in before.items() if was_listed and external_id not in listed),
        balance=report.balance,
        currency=provider.currency,
    )


async def sync_providers(
    sessions: async_sessionmaker[AsyncSession], *, actor: Actor, timeouts: Timeouts | None = None
) -> list[SyncOutcome]:
    """Sync every active provider that has an API, one after the other."""
    providers = await providers_with_api(sessions)
    return [await sync_provider(sessions, provider, actor=actor, timeouts=timeouts) for provider in providers]


async def providers_with_api(sessions: async_sessionmaker[AsyncSession]) -> list[Provider]:
    """The active providers that have an API to ask (manual providers have none), by name."""
    async with sessions() as session:
        return list(
            await session.scalars(
                sa.select(Provider)
                .where(Provider.is_active, Provider.kind != ProviderKind.MANUAL)
                .order_by(Provider.name, Provider.id)
            )
        )


async def sync_provider(
    sessions: async_sessionmaker[AsyncSession], provider: Provider, *, actor: Actor, timeouts: Timeouts | None = None
) -> SyncOutcome:
    """Ask one provider, then record its answers in a unit of work of their own; failures become the outcome."""
    try:
        async with sessions() as session:
            client = await client_for(session, provider, timeouts=timeouts)
        if client is None:
            return SyncOutcome(provider.name, error="worked manually: there is no API to ask")
        async with client:
            report = await fetch_report(client)
        async with unit_of_work(sessions) as uow:
            return await apply_report(uow, provider_id=provider.id, report=report, actor=actor)
    except SmmV2Error as exc:
        return SyncOutcome(provider.name, error=str(exc))
    except DomainError as exc:
        return SyncOutcome(provider.name, error=exc.message)
