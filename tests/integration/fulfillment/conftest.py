"""A sandbox provider with its services mapped to catalog services, and helpers to place paid lines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.catalog.models import Service, ServiceKind
from app.db.engine import session_factory
from app.fulfillment.models import Provider, ProviderKind
from app.sandbox.provider import ManualClock, SandboxProvider
from tests import factories
from tests.integration.providers.conftest import SANDBOX_KEY, SIMULATION

# (our service kind, sandbox service id, min, max) — see app.sandbox.smm_panel.DEFAULT_SERVICES
KINDS = {
    ServiceKind.DEFAULT: ("1", "Default", 50, 10000),
    ServiceKind.DRIP_FEED: ("2", "Default", 20, 50000),
    ServiceKind.CUSTOM_COMMENTS: ("3", "Custom Comments", 5, 500),
    ServiceKind.PACKAGE: ("4", "Package", 1, 1),
    ServiceKind.SUBSCRIPTION: ("5", "Subscriptions", 50, 5000),
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[SandboxProvider]:
    with SandboxProvider(api_key=SANDBOX_KEY, clock=clock, simulation=SIMULATION) as running:
        yield running


@dataclass
class Catalog:
    provider: Provider
    services: dict[ServiceKind, Service]


@pytest.fixture
async def catalog(session: AsyncSession, sandbox: SandboxProvider) -> Catalog:
    provider = await factories.provider(session, kind=ProviderKind.SANDBOX, api_url=sandbox.url, api_key=SANDBOX_KEY)
    services = {}
    for kind, (external_id, upstream_type, low, high) in KINDS.items():
        upstream = await factories.provider_service(
            session, provider, external_id=external_id, type=upstream_type, min_quantity=low, max_quantity=high
        )
        services[kind] = await factories.service(
            session, kind=kind, upstream=upstream, min_quantity=low, max_quantity=high
        )
    await session.commit()
    return Catalog(provider, services)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)
