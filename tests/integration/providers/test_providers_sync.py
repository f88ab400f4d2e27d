"""``smplat providers sync``: each active provider's services and balance recorded; failures reported per provider."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.actors import Actor
from app.audit.models import AuditLog
from app.db.engine import session_factory
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.providers.clients import register_sandbox
from app.providers.smm_v2 import Timeouts
from app.providers.sync import sync_providers
from app.sandbox.provider import DEFAULT_SERVICES, Fault, FaultRule, SandboxProvider, SandboxService
from tests import factories
from tests.conftest import TEST_SECRET
from tests.integration.providers.conftest import SANDBOX_KEY, TEST_TIMEOUTS

CLI = Actor.cli()
UNREACHABLE = "http://127.0.0.1:9/api/v2"  # the discard port: nothing listens


async def sandbox_provider(session: AsyncSession, sandbox: SandboxProvider, **values: object) -> Provider:
    defaults: dict[str, object] = {"kind": ProviderKind.SANDBOX, "api_url": sandbox.url, "api_key": SANDBOX_KEY}
    return await factories.provider(session, **{**defaults, **values})


async def sync(engine: AsyncEngine, timeouts: Timeouts = TEST_TIMEOUTS):
    return await sync_providers(session_factory(engine), actor=CLI, timeouts=timeouts)


async def services_of(session: AsyncSession, provider_id: int) -> dict[str, ProviderService]:
    rows = await session.scalars(
        sa.select(ProviderService)
        .where(ProviderService.provider_id == provider_id)
        .execution_options(populate_existing=True)
    )
    return {row.external_id: row for row in rows.unique()}


async def reloaded(session: AsyncSession, provider_id: int) -> Provider:
    provider = await session.scalar(
        sa.select(Provider).where(Provider.id == provider_id).execution_options(populate_existing=True)
    )
    assert provider is not None
    return provider


async def test_sync_records_the_service_list_and_the_balance(
    engine: AsyncEngine, session: AsyncSession, sandbox: SandboxProvider
):
    provider = await sandbox_provider(session, sandbox, name="Sandbox")
    await factories.provider(session, name="Manual work", kind=ProviderKind.MANUAL, api_url=None, api_key=None)
    await factories.provider(session, name="Paused panel", api_url=UNREACHABLE, is_active=False)
    await session.commit()

    outcomes = await sync(engine)

    assert [o.line() for o in outcomes] == [
        "Sandbox: 6 services (6 new, 0 no longer listed), balance 1000.0000 USD"
    ]  # manual and inactive providers are not asked
    rows = await services_of(session, provider.id)
    assert sorted(rows) == sorted(str(s.id) for s in DEFAULT_SERVICES)
    followers = rows["1"]
    assert (followers.name, followers.type, followers.category) == ("Instagram Followers", "Default", "Instagram")
    assert (followers.rate, followers.min_quantity, followers.max_quantity) == (Decimal("0.9000"), 50, 10000)
    assert followers.refill and followers.cancel and followers.is_listed and followers.synced_at is not None
    assert rows["3"].type == "Custom Comments"
    synced = await reloaded(session, provider.id)
    assert synced.balance == Decimal("1000.0000")
    assert synced.balance_synced_at is not None and synced.services_synced_at is not None
    actions = (await session.scalars(sa.select(AuditLog.action).where(AuditLog.entity_type == "provider"))).all()
    assert sorted(actions) == ["record-provider-balance", "sync-provider-services"]


async def test_a_second_sync_adds_new_services_unlists_vanished_ones_and_updates_the_balance(
    engine: AsyncEngine, session: AsyncSession, sandbox: SandboxProvider
):
    provider = await sandbox_provider(session, sandbox, name="Sandbox")
    await session.commit()
    await sync(engine)

    followers, likes = DEFAULT_SERVICES[:2]
    sandbox.set_services([followers, likes, SandboxService(42, "TikTok Views", Decimal("0.031"), 100, 10**6)])
    sandbox.panel.answer(
        {"key": SANDBOX_KEY, "action": "add", "service": "1", "link": "https://x.example/", "quantity": "1000"}
    )
    (outcome,) = await sync(engine)

    assert outcome.line() == "Sandbox: 3 services (1 new, 4 no longer listed), balance 999.1000 USD"
    rows = await services_of(session, provider.id)
    assert {external_id for external_id, row in rows.items() if row.is_listed} == {"1", "2", "42"}
    assert len(rows) == 7  # never deleted: catalog services and past lines point at them
    assert rows["42"].rate == Decimal("0.0310")
    assert (await reloaded(session, provider.id)).balance == Decimal("999.1000")


async def test_each_provider_fails_on_its_own_line_and_the_others_are_synced(
    engine: AsyncEngine, session: AsyncSession, sandbox: SandboxProvider
):
    good = await sandbox_provider(session, sandbox, name="A good panel")
    await factories.provider(session, name="B unreachable", api_url=UNREACHABLE)
    wrong_key = await sandbox_provider(session, sandbox, name="C wrong key", api_key="not-the-key-0123456789")
    await sandbox_provider(session, sandbox, name="D no key", api_key=None)
    await sandbox_provider(session, sandbox, name="E euro", currency="EUR")
    await factories.provider(session, name="F demo sandbox", kind=ProviderKind.SANDBOX, api_url="sandbox://smm")
    await session.commit()

    outcomes = await sync(engine)

    lines = [o.line() for o in outcomes]
    assert lines[0].startswith("A good panel: 6 services")
    assert lines[1].startswith("B unreachable: not synced: services: could not connect (127.0.0.1:9)")
    assert lines[2] == "C wrong key: not synced: services: the provider refused: Invalid API key"
    assert lines[3] == "D no key: not synced: Provider D no key has no API key"
    assert lines[4] == ("E euro: not synced: the provider reports its balance in USD, but is set up as billing in EUR")
    assert lines[5] == (
        "F demo sandbox: not synced: Provider F demo sandbox is the built-in sandbox (sandbox://smm); "
        "it answers only while `smplat demo` runs"
    )
    assert all("\n" not in line for line in lines)
    assert [o.ok for o in outcomes] == [True, False, False, False, False, False]
    assert len(await services_of(session, good.id)) == 6
    assert await services_of(session, wrong_key.id) == {}
    assert (await reloaded(session, wrong_key.id)).balance is None


async def test_a_garbled_answer_changes_nothing(engine: AsyncEngine, session: AsyncSession, sandbox: SandboxProvider):
    provider = await sandbox_provider(session, sandbox, name="Sandbox")
    await session.commit()
    sandbox.set_faults([FaultRule(Fault.HTML_ERROR, ("balance",), status=200)])

    (outcome,) = await sync(engine)

    assert outcome.error is not None
    assert outcome.error.startswith("balance: the answer is not JSON: <!DOCTYPE html>")
    assert await services_of(session, provider.id) == {}  # services came, but nothing is recorded without the balance


async def test_the_demo_sandbox_is_synced_where_it_runs(
    engine: AsyncEngine, session: AsyncSession, sandbox: SandboxProvider
):
    provider = await factories.provider(
        session, name="Demo provider (sandbox)", kind=ProviderKind.SANDBOX, api_url="sandbox://smm", api_key=SANDBOX_KEY
    )
    await session.commit()
    register_sandbox("sandbox://smm", sandbox.url)
    try:
        (outcome,) = await sync(engine)
    finally:
        register_sandbox("sandbox://smm", None)
    assert outcome.ok, outcome.error
    assert len(await services_of(session, provider.id)) == 6


# -- the command -------------------------------------------------------------------------------------------------


def smplat(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMPLAT_")}
    environment.update({"SMPLAT_ENV": "test", "SMPLAT_SECRET_KEY": TEST_SECRET, "SMPLAT_DATABASE_URL": database_url})
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, env=environment, timeout=60, check=False
    )


async def test_the_command_syncs_and_says_what_it_recorded(
    clean_db: str, session: AsyncSession, sandbox: SandboxProvider
):
    await sandbox_provider(session, sandbox, name="Sandbox")
    await session.commit()

    result = await asyncio.to_thread(smplat, "providers", "sync", database_url=clean_db)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Sandbox: 6 services (6 new, 0 no longer listed), balance 1000.0000 USD"
    assert [r.action for r in sandbox.requests] == ["services", "balance"]


async def test_the_command_fails_with_one_line_per_provider_and_no_traceback(
    clean_db: str, session: AsyncSession, sandbox: SandboxProvider
):
    await sandbox_provider(session, sandbox, name="Sandbox")
    await factories.provider(session, name="Gone", api_url=UNREACHABLE, api_key="gone-secret-key-0123456789")
    await session.commit()

    result = await asyncio.to_thread(smplat, "providers", "sync", database_url=clean_db)

    assert result.returncode == 1
    assert result.stdout.startswith("Sandbox: 6 services")
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith("Gone: not synced: services: could not connect (127.0.0.1:9)")
    assert errors[-1] == "Error: 1 of 2 providers not synced"
    assert len(errors) == 2
    assert "Traceback" not in result.stderr
    assert "gone-secret-key" not in result.stdout + result.stderr
    assert SANDBOX_KEY not in result.stdout + result.stderr


async def test_the_command_with_nothing_to_sync(clean_db: str):
    result = await asyncio.to_thread(smplat, "providers", "sync", database_url=clean_db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no active provider with an API to sync"
