from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.accounts.services import LoginThrottle, StaffUserService
from app.errors import Conflict, PermissionDenied, ValidationFailed
from tests import factories


async def test_password_is_stored_as_argon2_and_login_works(session: AsyncSession):
    user = await factories.staff_user(session, Role.FINANCE, email="Fin@SMPLat.example")
    assert user.email == "fin@smplat.example"
    assert user.password_hash.startswith("$argon2id$")
    users = StaffUserService(session=session)
    assert (await users.authenticate("FIN@smplat.example", factories.STAFF_PASSWORD)).id == user.id
    assert user.last_login_at is not None
    assert await users.authenticate("fin@smplat.example", "wrong password") is None
    assert await users.authenticate("nobody@smplat.example", factories.STAFF_PASSWORD) is None


async def test_deactivated_user_cannot_log_in(session: AsyncSession):
    admin = await factories.staff_user(session, Role.ADMIN)
    user = await factories.staff_user(session, Role.STAFF)
    users = StaffUserService(session=session)
    await users.set_active(user.id, active=False, acting_user_id=admin.id)
    assert await users.authenticate(user.email, factories.STAFF_PASSWORD) is None


async def test_duplicate_email_is_refused(session: AsyncSession):
    await factories.staff_user(session, email="dup@smplat.example")
    with pytest.raises(Conflict, match="already exists"):
        await factories.staff_user(session, email="DUP@smplat.example")


async def test_bad_input_lists_every_problem(session: AsyncSession):
    with pytest.raises(ValidationFailed) as excinfo:
        await StaffUserService(session=session).create_user(email="nope", password="short", role="boss")
    assert set(excinfo.value.errors) == {"email", "password", "role"}


async def test_nobody_deactivates_themselves_or_the_last_admin(session: AsyncSession):
    admin = await factories.staff_user(session, Role.ADMIN)
    staff = await factories.staff_user(session, Role.STAFF)
    users = StaffUserService(session=session)
    with pytest.raises(PermissionDenied, match="your own account"):
        await users.set_active(admin.id, active=False, acting_user_id=admin.id)
    with pytest.raises(PermissionDenied, match="last active admin"):
        await users.set_active(admin.id, active=False, acting_user_id=staff.id)
    second = await factories.staff_user(session, Role.ADMIN)
    await users.set_active(admin.id, active=False, acting_user_id=second.id)
    assert not admin.is_active


async def test_login_throttle_locks_after_five_failures_per_ip_and_email(session: AsyncSession):
    throttle = LoginThrottle(session)
    for _ in range(5):
        assert not await throttle.is_locked(email="a@smplat.example", ip="10.0.0.1")
        await throttle.record_failure(email="a@smplat.example", ip="10.0.0.1")
    assert await throttle.is_locked(email="a@smplat.example", ip="10.0.0.1")
    assert not await throttle.is_locked(email="a@smplat.example", ip="10.0.0.2")
    assert not await throttle.is_locked(email="b@smplat.example", ip="10.0.0.1")
    await throttle.clear(email="a@smplat.example", ip="10.0.0.1")
    assert not await throttle.is_locked(email="a@smplat.example", ip="10.0.0.1")
