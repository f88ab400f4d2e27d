"""Staff account commands against PostgreSQL: rules, locking, sessions, and one audit row per changed account."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.accounts import commands, passwords
from app.accounts.models import Role, SessionEnd, StaffSession, StaffUser
from app.accounts.services import LoginThrottle, StaffUserService, find_active_session
from app.actors import Actor, ActorKind
from app.audit.models import AuditLog
from app.db.engine import session_factory
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.uow import UnitOfWork, unit_of_work
from tests import factories

PASSWORD = factories.STAFF_PASSWORD
SYSTEM = Actor.system("test")


class Boom(Exception):
    """A failure after the change, before the unit of work commits."""


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("smplat-timing-equaliser"))


@pytest.fixture
def sessions(engine: AsyncEngine):
    return session_factory(engine)


def staff_actor(user: StaffUser) -> Actor:
    return Actor.staff(user.id, user.email)


async def fresh(session: AsyncSession, user_id: int) -> StaffUser:
    stmt = sa.select(StaffUser).where(StaffUser.id == user_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one()


async def audit_rows(session: AsyncSession) -> list[AuditLog]:
    stmt = sa.select(AuditLog).order_by(AuditLog.id).execution_options(populate_existing=True)
    return list((await session.scalars(stmt)).all())


async def record_login(session: AsyncSession, user: StaffUser, checked_hash: str | None = None):
    return await commands.record_login(
        UnitOfWork(session),
        user_id=user.id,
        verified_hash=checked_hash or user.password_hash,
        password=PASSWORD,
        ip=None,
        user_agent=None,
    )


async def login(session: AsyncSession, user: StaffUser) -> commands.LoginTicket:
    ticket = await record_login(session, user)
    assert ticket is not None
    return ticket


# -- creating and logging in -----------------------------------------------------------------------------------


async def test_a_new_account_stores_an_argon2_hash_and_its_password_logs_in(session):
    user = await commands.create_staff_user(
        UnitOfWork(session), email=" Fin@SMPLat.example ", password=PASSWORD, role="finance", actor=SYSTEM
    )

    assert user.email == "fin@smplat.example"
    assert user.password_hash.startswith("$argon2id$")
    users = StaffUserService(session=session)
    assert (await users.authenticate("FIN@smplat.example", PASSWORD)).id == user.id
    assert await users.authenticate("fin@smplat.example", "wrong password") is None
    assert await users.authenticate("nobody@smplat.example", PASSWORD) is None
    assert await users.authenticate("x" * 300, PASSWORD) is None
    assert await users.authenticate("fin@smplat.example\x00", PASSWORD) is None


async def test_a_duplicate_email_is_refused(session):
    uow = UnitOfWork(session)
    await commands.create_staff_user(uow, email="dup@smplat.example", password=PASSWORD, role="staff", actor=SYSTEM)
    with pytest.raises(Conflict, match="already exists"):
        await commands.create_staff_user(uow, email="DUP@smplat.example", password=PASSWORD, role="admin", actor=SYSTEM)


async def test_bad_input_lists_every_problem_and_creates_nothing(session):
    with pytest.raises(ValidationFailed) as refused:
        await commands.create_staff_user(
            UnitOfWork(session), email="nope", password="short", role="boss", locale="fr", actor=SYSTEM
        )
    assert set(refused.value.errors) == {"email", "password", "role", "locale"}
    assert await session.scalar(sa.select(sa.func.count()).select_from(StaffUser)) == 0


async def test_a_login_of_a_deactivated_account_opens_no_session(session):
    admin = await factories.staff_user(session, Role.ADMIN)
    user = await factories.staff_user(session, Role.STAFF)
    await commands.set_staff_active(UnitOfWork(session), user_ids=[user.id], active=False, actor=staff_actor(admin))

    assert await StaffUserService(session=session).authenticate(user.email, PASSWORD) is None
    assert await record_login(session, user) is None


async def test_a_password_reset_between_the_check_and_the_login_opens_no_session(session):
    user = await factories.staff_user(session, Role.STAFF)
    checked_hash = user.password_hash
    await commands.reset_staff_password(UnitOfWork(session), user_id=user.id, actor=SYSTEM)

    assert await record_login(session, user, checked_hash) is None


# -- rules -----------------------------------------------------------------------------------------------------


async def test_nobody_deactivates_themselves_or_the_last_admin(session):
    admin = await factories.staff_user(session, Role.ADMIN)
    staff = await factories.staff_user(session, Role.STAFF)
    uow = UnitOfWork(session)
    with pytest.raises(PermissionDenied, match="your own account"):
        await commands.set_staff_active(uow, user_ids=[admin.id], active=False, actor=staff_actor(admin))
    with pytest.raises(PermissionDenied, match="last active admin"):
        await commands.set_staff_active(uow, user_ids=[admin.id], active=False, actor=staff_actor(staff))
    second = await factories.staff_user(session, Role.ADMIN)
    with pytest.raises(PermissionDenied, match="last active admin"):  # both at once would leave none
        await commands.set_staff_active(uow, user_ids=[admin.id, second.id], active=False, actor=staff_actor(staff))

    await commands.set_staff_active(uow, user_ids=[admin.id], active=False, actor=staff_actor(second))

    assert not (await fresh(session, admin.id)).is_active


async def test_nobody_removes_their_own_admin_role_or_the_last_admins(session):
    admin = await factories.staff_user(session, Role.ADMIN)
    staff = await factories.staff_user(session, Role.STAFF)
    uow = UnitOfWork(session)
    profile = {"name": None, "role": "staff", "locale": "de"}
    with pytest.raises(PermissionDenied, match="your own admin role"):
        await commands.update_staff_profile(uow, user_id=admin.id, actor=staff_actor(admin), **profile)
    with pytest.raises(PermissionDenied, match="last active admin"):
        await commands.update_staff_profile(uow, user_id=admin.id, actor=staff_actor(staff), **profile)
    assert (await fresh(session, admin.id)).role == Role.ADMIN


async def test_two_admins_deactivating_each_other_at_once_leave_one_active_admin(engine, sessions):
    async with sessions() as session:
        first = await factories.staff_user(session, Role.ADMIN)
        second = await factories.staff_user(session, Role.ADMIN)
        await session.commit()

    async def deactivate(target: StaffUser, actor: StaffUser) -> str:
        try:
            async with unit_of_work(sessions) as uow:
                await commands.set_staff_active(uow, user_ids=[target.id], active=False, actor=staff_actor(actor))
                await asyncio.sleep(0.2)  # hold the locks while the other one tries
        except PermissionDenied:
            return "refused"
        return "done"

    outcomes = await asyncio.gather(deactivate(first, second), deactivate(second, first))

    assert sorted(outcomes) == ["done", "refused"]
    async with sessions() as session:
        assert await StaffUserService(session=session).count_active_admins() == 1


# -- sessions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("reset", SessionEnd.PASSWORD_RESET),
        ("deactivate", SessionEnd.DEACTIVATED),
        ("role", SessionEnd.ROLE_CHANGED),
        ("end", SessionEnd.ENDED_BY_ADMIN),
    ],
)
async def test_account_changes_end_the_accounts_sessions(session, change, reason):
    admin = await factories.staff_user(session, Role.ADMIN)
    user = await factories.staff_user(session, Role.STAFF)
    bystander = await factories.staff_user(session, Role.STAFF)
    tickets = [await login(session, user), await login(session, user)]
    other = await login(session, bystander)
    uow, actor = UnitOfWork(session), staff_actor(admin)

    if change == "reset":
        await commands.reset_staff_password(uow, user_id=user.id, actor=actor)
    elif change == "deactivate":
        await commands.set_staff_active(uow, user_ids=[user.id], active=False, actor=actor)
    elif change == "role":
        await commands.update_staff_profile(uow, user_id=user.id, actor=actor, name=None, role="finance", locale="de")
    else:
        assert await commands.end_staff_sessions(uow, user_ids=[user.id], actor=actor) == 2

    for ticket in tickets:
        assert await find_active_session(session, ticket.token) is None
    assert await find_active_session(session, other.token) is not None
    reasons = await session.scalars(sa.select(StaffSession.revoked_reason).where(StaffSession.staff_user_id == user.id))
    assert set(reasons) == {reason}


async def test_a_name_or_language_change_keeps_the_sessions(session):
    admin = await factories.staff_user(session, Role.ADMIN)
    user = await factories.staff_user(session, Role.STAFF)
    ticket = await login(session, user)

    await commands.update_staff_profile(
        UnitOfWork(session), user_id=user.id, actor=staff_actor(admin), name="Renamed", role="staff", locale="en"
    )

    assert await find_active_session(session, ticket.token) is not None


async def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(session):
    user = await factories.staff_user(session, Role.STAFF)
    here, elsewhere = await login(session, user), await login(session, user)

    await commands.change_own_password(
        UnitOfWork(session),
        user_id=user.id,
        actor=staff_actor(user),
        current_password=PASSWORD,
        new_password="a brand new passphrase",
        keep_session_id=here.session_id,
    )

    assert await find_active_session(session, here.token) is not None
    assert await find_active_session(session, elsewhere.token) is None
    assert passwords.verify_password((await fresh(session, user.id)).password_hash, "a brand new passphrase")


@pytest.mark.parametrize(
    ("current", "new", "field"),
    [
        ("not the password", "a brand new passphrase", "current_password"),
        (PASSWORD, PASSWORD, "new_password"),
        (PASSWORD, "short", "new_password"),
    ],
)
async def test_a_password_change_needs_the_current_password_and_a_new_good_one(session, current, new, field):
    user = await factories.staff_user(session, Role.STAFF)
    with pytest.raises(ValidationFailed) as refused:
        await commands.change_own_password(
            UnitOfWork(session), user_id=user.id, actor=staff_actor(user), current_password=current, new_password=new
        )
    assert set(refused.value.errors) == {field}


async def test_logging_out_ends_that_session_only(session):
    user = await factories.staff_user(session, Role.STAFF)
    first, second = await login(session, user), await login(session, user)

    assert await commands.log_out(UnitOfWork(session), token=first.token)

    assert await find_active_session(session, first.token) is None
    assert await find_active_session(session, second.token) is not None
    assert not await commands.log_out(UnitOfWork(session), token=first.token)


# -- audit -----------------------------------------------------------------------------------------------------


async def run_each_command(uow: UnitOfWork, admin: StaffUser, user: StaffUser) -> list[str]:
    """Every account command once; the audit actions it should leave behind, in order."""
    actor = staff_actor(admin)
    await commands.create_staff_user(uow, email="new@smplat.example", password=PASSWORD, role="staff", actor=actor)
    await commands.update_staff_profile(uow, user_id=user.id, actor=actor, name="Renamed", role="finance", locale="en")
    await commands.set_staff_active(uow, user_ids=[user.id], active=False, actor=actor)
    await commands.set_staff_active(uow, user_ids=[user.id], active=True, actor=actor)
    await commands.reset_staff_password(uow, user_id=user.id, actor=actor, password="temporary password")
    await commands.change_own_password(
        uow, user_id=user.id, actor=staff_actor(user), current_password="temporary password", new_password=PASSWORD
    )
    await login(uow.session, user)
    await commands.end_staff_sessions(uow, user_ids=[user.id], actor=actor)
    return ["create", "update", "deactivate", "activate", "reset-password", "change-password", "end-sessions"]


async def test_every_command_writes_one_audit_row_per_changed_account_without_secrets(session):
    admin = await factories.staff_user(session, Role.ADMIN)
    user = await factories.staff_user(session, Role.STAFF)

    expected = await run_each_command(UnitOfWork(session, ip="192.0.2.1"), admin, user)

    rows = await audit_rows(session)
    assert [row.action for row in rows] == expected
    assert {(row.entity_type, row.actor_kind, row.ip) for row in rows} == {("staff_user", ActorKind.STAFF, "192.0.2.1")}
    update = rows[1]
    assert update.diff["role"] == {"before": "staff", "after": "finance"}
    assert update.diff["name"] == {"before": None, "after": "Renamed"}
    reset = rows[4]
    assert reset.diff["password_hash"] == {"before": "***", "after": "***"}
    assert reset.diff["must_change_password"] == {"before": False, "after": True}
    written = json.dumps([row.diff for row in rows])
    current_hash = (await fresh(session, user.id)).password_hash
    for secret in (PASSWORD, "temporary password", "$argon2", current_hash):
        assert secret not in written


@pytest.mark.parametrize(
    "command",
    ["create", "update", "deactivate", "activate", "reset-password", "change-password", "end-sessions"],
)
async def test_a_failure_after_a_command_leaves_neither_its_change_nor_its_audit_row(sessions, command):
    async with sessions() as session:
        admin = await factories.staff_user(session, Role.ADMIN)
        user = await factories.staff_user(session, Role.STAFF, name="Before")
        ticket = await login(session, user)
        if command == "activate":
            user.is_active = False
        await session.commit()
        before = commands.snapshot(user)
    actor = staff_actor(admin)

    async def change_then_fail() -> None:
        async with unit_of_work(sessions) as uow:
            if command == "create":
                await commands.create_staff_user(
                    uow, email="new@smplat.example", password=PASSWORD, role="staff", actor=actor
                )
            elif command == "update":
                await commands.update_staff_profile(
                    uow, user_id=user.id, actor=actor, name="After", role="finance", locale="en"
                )
            elif command in ("deactivate", "activate"):
                await commands.set_staff_active(uow, user_ids=[user.id], active=command == "activate", actor=actor)
            elif command == "reset-password":
                await commands.reset_staff_password(uow, user_id=user.id, actor=actor)
            elif command == "change-password":
                await commands.change_own_password(
                    uow,
                    user_id=user.id,
                    actor=staff_actor(user),
                    current_password=PASSWORD,
                    new_password="a brand new passphrase",
                )
            else:
                await commands.end_staff_sessions(uow, user_ids=[user.id], actor=actor)
            assert await uow.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 1
            raise Boom

    with pytest.raises(Boom):
        await change_then_fail()

    async with sessions() as session:
        assert await audit_rows(session) == []
        assert commands.snapshot(await fresh(session, user.id)) == before
        assert await session.scalar(sa.select(sa.func.count()).select_from(StaffUser)) == 2
        if command != "activate":  # an inactive account has no live session to keep
            assert await find_active_session(session, ticket.token) is not None


# -- login throttle --------------------------------------------------------------------------------------------


async def test_the_throttle_admits_five_attempts_per_ip_and_login(session):
    throttle = LoginThrottle(session)
    for _ in range(LoginThrottle.MAX_FAILURES):
        assert await throttle.admit(login="a@smplat.example", ip="10.0.0.1")
    assert not await throttle.admit(login="A@smplat.example ", ip="10.0.0.1")
    assert await throttle.admit(login="a@smplat.example", ip="10.0.0.2")
    assert await throttle.admit(login="b@smplat.example", ip="10.0.0.1")
    await throttle.clear(login="a@smplat.example", ip="10.0.0.1")
    assert await throttle.admit(login="a@smplat.example", ip="10.0.0.1")


async def test_the_throttle_counts_logins_that_cannot_be_stored_too(session):
    throttle = LoginThrottle(session)
    for login in ("x" * 300, "a\x00b@smplat.example", "\ud800@smplat.example"):
        for _ in range(LoginThrottle.MAX_FAILURES):
            assert await throttle.admit(login=login, ip="10.0.0.1")
        assert not await throttle.admit(login=login, ip="10.0.0.1")


async def test_a_new_window_admits_again(session):
    throttle = LoginThrottle(session)
    for _ in range(LoginThrottle.MAX_FAILURES + 1):
        await throttle.admit(login="a@smplat.example", ip="10.0.0.1")
    await session.execute(sa.text("UPDATE staff_login_attempts SET window_started_at = now() - interval '61 seconds'"))

    assert await throttle.admit(login="a@smplat.example", ip="10.0.0.1")
