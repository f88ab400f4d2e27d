"""``smplat demo`` makes its printed logins work through the account commands, audited as the system."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from app.accounts import passwords
from app.accounts.models import StaffUser
from app.accounts.services import StaffUserService
from app.actors import ActorKind
from app.audit.models import AuditLog
from app.demo.runner import DEMO_USERS, prepare


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("smplat-timing-equaliser"))


async def test_demo_logins_are_created_then_reset_through_the_commands(clean_db, session):
    logins = {email: f"demo password of {email}" for email, _role in DEMO_USERS}

    await prepare(clean_db, logins)

    users = StaffUserService(session=session)
    for email, role in DEMO_USERS:
        user = await users.authenticate(email, logins[email])
        assert user is not None and user.role == role
    rows = list(
        await session.scalars(sa.select(AuditLog).where(AuditLog.entity_type == "staff_user").order_by(AuditLog.id))
    )
    assert [(row.action, row.actor_kind) for row in rows] == [("create", ActorKind.SYSTEM)] * len(DEMO_USERS)
    last_id = rows[-1].id

    # A later start with other printed passwords (the logins file was replaced) resets them, audited too.
    await session.execute(sa.update(StaffUser).values(is_active=False).where(StaffUser.email == DEMO_USERS[1][0]))
    await session.commit()
    changed = {**logins, DEMO_USERS[0][0]: "a new demo password"}
    await prepare(clean_db, changed)

    session.expire_all()
    assert await users.authenticate(DEMO_USERS[0][0], "a new demo password") is not None
    assert await users.authenticate(DEMO_USERS[1][0], logins[DEMO_USERS[1][0]]) is not None  # active again
    later = list(await session.scalars(sa.select(AuditLog).where(AuditLog.id > last_id).order_by(AuditLog.id)))
    assert [row.action for row in later] == ["reset-password", "activate"]
    assert all(row.actor_kind == ActorKind.SYSTEM for row in later)
