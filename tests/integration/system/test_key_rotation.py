"""Rotating the key of encrypted columns without downtime: new key in front of the ring, rotate, drop the old one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.actors import ActorKind
from app.asgi import create_app
from app.audit.models import AuditLog
from app.config import Settings, get_settings, use_settings
from app.db.key_rotation import key_status
from app.fulfillment.credentials import ProviderKeyUnreadable, provider_api_key
from tests import factories
from tests.integration.admin.helpers import http_client, login_as
from tests.integration.system.test_cli import smplat

KEY_A = "old-ring-key-" + "a" * 32
KEY_B = "new-ring-key-" + "b" * 32
LOST_KEY = "a-key-nobody-has-any-more-" + "x" * 16
PLAINTEXTS = {"Alpha": "sk-alpha-0d5e1", "Beta": "sk-beta-9a7c3"}
LOST_PLAINTEXT = "sk-lost-55e02"


@pytest.fixture(autouse=True)
def restore_settings() -> Iterator[None]:
    previous = get_settings()
    yield
    use_settings(previous)


def ring(settings: Settings, *keys: str) -> Settings:
    """``settings`` with this key ring, made the process's (as an app or command started with it would)."""
    use_settings(settings := replace(settings, encryption_keys=keys))
    return settings


async def tokens(session) -> dict[str, str]:
    rows = await session.execute(sa.text("SELECT name, api_key FROM provider ORDER BY name"))
    return dict(rows.all())


async def provider_ids(session) -> dict[str, int]:
    return dict((await session.execute(sa.text("SELECT name, id FROM provider"))).all())


@pytest.fixture
async def written_under_a(session, settings):
    """Two providers whose keys were written under KEY_A, and one under a key no ring holds."""
    ring(settings, LOST_KEY)
    await factories.provider(session, name="Lost", api_key=LOST_PLAINTEXT)
    ring(settings, KEY_A)
    for name, plaintext in PLAINTEXTS.items():
        await factories.provider(session, name=name, api_key=plaintext)
    await factories.provider(session, name="Keyless", api_key=None)
    await session.commit()
    return await provider_ids(session)


def run(*args: str, database_url: str, keys: str):
    result = smplat(*args, database_url=database_url, SMPLAT_ENCRYPTION_KEYS=keys)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for secret in (*PLAINTEXTS.values(), LOST_PLAINTEXT, KEY_A, KEY_B, LOST_KEY):
        assert secret not in output
    return result.stdout


async def test_the_new_key_in_front_of_the_ring_then_rotation_then_the_new_key_alone(
    session, settings, written_under_a, clean_db
):
    ids = written_under_a
    before = await tokens(session)

    # 1. The new key in front, the old one behind: everything stays readable, new writes use the new key.
    app = create_app(ring(settings, KEY_B, KEY_A))
    for name, plaintext in PLAINTEXTS.items():
        assert await provider_api_key(session, ids[name]) == plaintext
    async with http_client(app) as web:
        await login_as(session, web, Role.ADMIN)
        listing = await web.get("/admin/provider/list")
    assert listing.status_code == 200
    assert listing.text.count('data-testid="api-key-stored"') == 2
    assert listing.text.count('data-testid="api-key-unreadable"') == 1  # "Lost": no ring ever held its key
    status = run("keys", "status", database_url=clean_db, keys=f"{KEY_B},{KEY_A}")
    assert "provider.api_key: 0 under the first key, 2 under older keys, 1 unreadable" in status

    # 2. Rotation re-encrypts every readable value with the first key, in one audited transaction.
    rotated = run("keys", "rotate", database_url=clean_db, keys=f"{KEY_B},{KEY_A}")
    assert "re-encrypted 2 values with the first key of the ring; 1 unreadable" in rotated
    assert f"provider.api_key of id {ids['Lost']}" in rotated
    after = await tokens(session)
    assert after["Lost"] == before["Lost"]  # left as it was
    assert after["Keyless"] is None
    assert all(after[name] != before[name] for name in PLAINTEXTS)
    (audit,) = (await session.scalars(sa.select(AuditLog).where(AuditLog.action == "rotate_encryption_keys"))).all()
    assert audit.actor_kind == ActorKind.CLI
    assert (audit.diff["reencrypted"], audit.diff["unreadable"]) == (2, 1)
    assert audit.diff["columns"]["provider.api_key"]["unreadable"] == [str(ids["Lost"])]
    for secret in (*PLAINTEXTS.values(), KEY_A, KEY_B, *before.values(), *after.values()):
        assert not secret or secret not in str(audit.diff)

    # 3. The old key dropped: the new key alone reads everything that was readable.
    app = create_app(ring(settings, KEY_B))
    (status,) = (await key_status(session)).columns
    assert (status.by_key, status.unreadable_ids) == ([2], [str(ids["Lost"])])
    for name, plaintext in PLAINTEXTS.items():
        assert await provider_api_key(session, ids[name]) == plaintext
    with pytest.raises(ProviderKeyUnreadable, match="Lost"):
        await provider_api_key(session, ids["Lost"])
    async with http_client(app) as web:
        await login_as(session, web, Role.ADMIN)
        listing = await web.get("/admin/provider/list")
    assert listing.text.count('data-testid="api-key-stored"') == 2
    for plaintext in PLAINTEXTS.values():
        assert plaintext not in listing.text


async def test_without_the_old_key_in_the_ring_rotation_changes_nothing(session, settings, written_under_a, clean_db):
    before = await tokens(session)

    rotated = run("keys", "rotate", database_url=clean_db, keys=KEY_B)

    assert "re-encrypted 0 values with the first key of the ring; 3 unreadable" in rotated
    assert await tokens(session) == before
