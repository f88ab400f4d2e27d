"""Staff accounts: every change is one command here (the house rule is in ``app/uow.py``).

A command takes ids and an ``Actor``, locks the ``staff_user`` rows it changes with one ``SELECT … FOR UPDATE``
in ascending id order (together with every admin row when the change could leave the back office without an
active admin, so that two such changes queue instead of both passing the check), applies the rules, ends the
sessions the change makes stale, writes one audit row per changed account and only flushes; the caller's
unit of work commits. Passwords never reach the audit log: the diff masks ``password_hash``.

Session bookkeeping — a login, a logout, "last seen" — changes only ``staff_session``, which is itself the
record of who was logged in when and from where; those commands write no audit row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, SessionEnd, StaffSession, StaffUser
from app.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.accounts.services import (
    SESSION_LIFETIME,
    SESSION_TOUCH_INTERVAL,
    new_password,
    new_session_token,
    session_token_hash,
)
from app.actors import Actor, ActorKind
from app.editing import check_version
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_, Message
from app.uow import UnitOfWork
from app.validation import normalise_email, normalise_locale

ENTITY = "staff_user"
MAX_NAME_LENGTH = 200
MAX_USER_AGENT_LENGTH = 300
SESSION_HISTORY = timedelta(days=30)  # ended sessions are kept this long, then purged at the user's next login


# -- helpers ---------------------------------------------------------------------------------------------------


def snapshot(user: StaffUser) -> dict[str, Any]:
    """The audited fields of an account (``password_hash`` is masked by the diff, never written out)."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "locale": user.locale,
        "is_active": user.is_active,
        "must_change_password": user.must_change_password,
        "password_hash": user.password_hash,
    }


def _acts_as(actor: Actor, user_id: int) -> bool:
    return actor.kind == ActorKind.STAFF and actor.id == str(user_id)


def _check_profile(
    role: Role | str, locale: str, name: str | None, errors: dict[str, str | Message]
) -> tuple[Role, str, str | None]:
    """Role, language and display name as stored; what is wrong goes into ``errors`` (raise when it is not empty)."""
    parsed_role, parsed_locale = Role.STAFF, "de"
    try:
        parsed_role = Role(role)
    except ValueError:
        errors["role"] = Message(
            N_("unknown role %(role)s; use one of: %(choices)s"),
            {"role": str(role), "choices": ", ".join(member.value for member in Role)},
        )
    try:
        parsed_locale = normalise_locale(locale)
    except ValueError:
        errors["locale"] = Message(N_("must be de or en"))
    clean_name = (name or "").strip()
    if len(clean_name) > MAX_NAME_LENGTH:
        errors["name"] = Message(N_("must be at most %(count)s characters"), {"count": MAX_NAME_LENGTH})
    return parsed_role, parsed_locale, clean_name or None


async def _lock(uow: UnitOfWork, user_ids: Iterable[int], *, with_admins: bool = False) -> dict[int, StaffUser]:
    """Lock the accounts (and every admin account when asked) in ascending id order; all must exist."""
    ids = sorted(set(user_ids))
    wanted = StaffUser.id.in_(ids)
    stmt = (
        sa.select(StaffUser)
        .where(sa.or_(wanted, StaffUser.role == Role.ADMIN) if with_admins else wanted)
        .order_by(StaffUser.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    locked = {user.id: user for user in await uow.session.scalars(stmt)}
    for user_id in ids:
        if user_id not in locked:
            raise NotFound(N_("Staff user %(id)s does not exist."), id=user_id)
    return {user_id: locked[user_id] for user_id in ids}


async def _active_admins(uow: UnitOfWork) -> int:
    count = await uow.session.scalar(
        sa.select(sa.func.count()).where(StaffUser.role == Role.ADMIN, StaffUser.is_active.is_(True))
    )
    return int(count or 0)


async def _end_sessions(
    uow: UnitOfWork, user_ids: Sequence[int], reason: SessionEnd, *, keep_session_id: int | None = None
) -> int:
    """Revoke the users' live sessions (except ``keep_session_id``); how many ended."""
    stmt = (
        sa.update(StaffSession)
        .where(
            StaffSession.staff_user_id.in_(list(user_ids)),
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > sa.func.now(),
        )
        .values(revoked_at=sa.func.now(), revoked_reason=reason)
        .returning(StaffSession.id)
    )
    if keep_session_id is not None:
        stmt = stmt.where(StaffSession.id != keep_session_id)
    return len((await uow.session.execute(stmt)).all())


# -- accounts --------------------------------------------------------------------------------------------------


async def create_staff_user(
    uow: UnitOfWork,
    *,
    email: str,
    password: str,
    role: Role | str,
    actor: Actor,
    name: str | None = None,
    locale: str = "de",
    must_change_password: bool = False,
) -> StaffUser:
    """A new account. ``must_change_password`` when someone other than its owner chose the password."""
    errors: dict[str, str | Message] = {}
    try:
        email = normalise_email(email)
    except ValueError:
        errors["email"] = Message(N_("is not a valid email address"))
    if problem := password_problem(password):
        errors["password"] = problem
    parsed_role, parsed_locale, clean_name = _check_profile(role, locale, name, errors)
    if errors:
        raise ValidationFailed(errors)
    duplicate = N_("A staff user with the email %(email)s already exists.")
    if await uow.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise Conflict(duplicate, email=email)
    hashed = await asyncio.to_thread(hash_password, password)
    user = StaffUser(
        email=email,
        name=clean_name,
        password_hash=hashed,
        role=parsed_role,
        locale=parsed_locale,
        is_active=True,
        must_change_password=must_change_password,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(user)
            await uow.session.flush()
    except IntegrityError as exc:  # the same email created concurrently
        raise Conflict(duplicate, email=email) from exc
    uow.audit(actor, "create", ENTITY, user.id, before={}, after=snapshot(user))
    await uow.flush()
    return user


async def update_staff_profile(
    uow: UnitOfWork,
    *,
    user_id: int,
    actor: Actor,
    name: str | None,
    role: Role | str,
    locale: str,
    version: str | None = None,
    role_change_confirmed: bool = True,
) -> StaffUser:
    """Name, language and role. Nobody removes their own admin role, and the last active admin stays one.

    A changed role ends the account's sessions: its owner logs in again and sees what the new role may. A form
    asks before that (``role_change_confirmed``): unconfirmed, a changed role is refused and nothing changes.
    With a ``version`` (an edit form's token) the change is refused when someone saved the account since.
    """
    errors: dict[str, str | Message] = {}
    parsed_role, parsed_locale, clean_name = _check_profile(role, locale, name, errors)
    if errors:
        raise ValidationFailed(errors)
    user = (await _lock(uow, [user_id], with_admins=True))[user_id]
    await check_version(uow.session, user, version, ENTITY)
    if user.role == Role.ADMIN and parsed_role != Role.ADMIN:
        if _acts_as(actor, user.id):
            raise PermissionDenied(N_("You cannot remove your own admin role."))
        if user.is_active and await _active_admins(uow) <= 1:
            raise PermissionDenied(N_("The last active admin must stay an admin."))
    if parsed_role != user.role and not role_change_confirmed:
        raise ValidationFailed(
            {"role": Message(N_("confirm the role change below: the account's sessions end and it logs in again"))}
        )
    before = snapshot(user)
    user.name, user.role, user.locale = clean_name, parsed_role, parsed_locale
    after = snapshot(user)
    if after == before:
        return user
    ended = await _end_sessions(uow, [user.id], SessionEnd.ROLE_CHANGED) if after["role"] != before["role"] else 0
    uow.audit(actor, "update", ENTITY, user.id, before=before, after=after, details={"sessions_ended": ended or None})
    await uow.flush()
    return user


async def choose_staff_language(uow: UnitOfWork, *, user_id: int, locale: str, actor: Actor) -> StaffUser:
    """The language a staff member chose in the back office becomes their profile's: the next login speaks it."""
    try:
        parsed_locale = normalise_locale(locale)
    except ValueError:
        raise ValidationFailed({"locale": Message(N_("must be de or en"))}) from None
    user = (await _lock(uow, [user_id]))[user_id]
    if user.locale == parsed_locale:
        return user
    before = snapshot(user)
    user.locale = parsed_locale
    uow.audit(actor, "choose-language", ENTITY, user.id, before=before, after=snapshot(user))
    await uow.flush()
    return user


async def set_staff_active(uow: UnitOfWork, *, user_ids: Sequence[int], active: bool, actor: Actor) -> list[StaffUser]:
    """Activate or deactivate accounts; deactivation ends their sessions. Refused as a whole when any account
    is the actor's own or when no active admin would remain."""
    users = await _lock(uow, user_ids, with_admins=not active)
    if not active:
        for user in users.values():
            if _acts_as(actor, user.id):
                raise PermissionDenied(N_("You cannot deactivate your own account."))
        losing = sum(1 for user in users.values() if user.role == Role.ADMIN and user.is_active)
        if losing and await _active_admins(uow) - losing < 1:
            raise PermissionDenied(N_("The last active admin cannot be deactivated."))
    for user in users.values():
        if user.is_active == active:
            continue
        before = snapshot(user)
        user.is_active = active
        ended = 0 if active else await _end_sessions(uow, [user.id], SessionEnd.DEACTIVATED)
        uow.audit(
            actor,
            "activate" if active else "deactivate",
            ENTITY,
            user.id,
            before=before,
            after=snapshot(user),
            details={"sessions_ended": ended or None},
        )
    await uow.flush()
    return list(users.values())


@dataclass(frozen=True)
class NewPassword:
    """A password set by someone other than its owner: shown once, never stored in clear."""

    user_id: int
    email: str
    password: str


async def reset_staff_password(
    uow: UnitOfWork,
    *,
    user_id: int,
    actor: Actor,
    password: str | None = None,
    require_change: bool = True,
    keep_session_id: int | None = None,
) -> NewPassword:
    """Set a new (by default random) password and end the account's sessions.

    With ``require_change`` its owner must choose their own password at the next login. ``keep_session_id``
    keeps the actor's own session when they reset their own password.
    """
    chosen = password if password is not None else new_password()
    if problem := password_problem(chosen):
        raise ValidationFailed({"password": problem})
    hashed = await asyncio.to_thread(hash_password, chosen)
    user = (await _lock(uow, [user_id]))[user_id]
    before = snapshot(user)
    user.password_hash = hashed
    user.must_change_password = require_change
    ended = await _end_sessions(uow, [user.id], SessionEnd.PASSWORD_RESET, keep_session_id=keep_session_id)
    details = {"sessions_ended": ended or None}
    uow.audit(actor, "reset-password", ENTITY, user.id, before=before, after=snapshot(user), details=details)
    await uow.flush()
    return NewPassword(user.id, user.email, chosen)


async def change_own_password(
    uow: UnitOfWork,
    *,
    user_id: int,
    actor: Actor,
    current_password: str,
    new_password: str,
    keep_session_id: int | None = None,
) -> StaffUser:
    """A staff member replaces their password (knowing the current one); their other sessions end."""
    if not _acts_as(actor, user_id):
        raise PermissionDenied(N_("Only the account's owner can change its password this way."))
    if problem := password_problem(new_password):
        raise ValidationFailed({"new_password": problem})
    user = (await _lock(uow, [user_id]))[user_id]
    if not user.is_active:
        raise PermissionDenied(N_("The account is deactivated."))
    if not await asyncio.to_thread(verify_password, user.password_hash, current_password):
        raise ValidationFailed({"current_password": N_("is not your current password")})
    if await asyncio.to_thread(verify_password, user.password_hash, new_password):
        raise ValidationFailed({"new_password": N_("must differ from the current password")})
    before = snapshot(user)
    user.password_hash = await asyncio.to_thread(hash_password, new_password)
    user.must_change_password = False
    ended = await _end_sessions(uow, [user.id], SessionEnd.PASSWORD_CHANGED, keep_session_id=keep_session_id)
    details = {"sessions_ended": ended or None}
    uow.audit(actor, "change-password", ENTITY, user.id, before=before, after=snapshot(user), details=details)
    await uow.flush()
    return user


async def end_staff_sessions(
    uow: UnitOfWork, *, user_ids: Sequence[int], actor: Actor, keep_session_id: int | None = None
) -> int:
    """Log the accounts out everywhere (a lost laptop, a shared screen); how many sessions ended."""
    users = await _lock(uow, user_ids)
    total = 0
    for user in users.values():
        ended = await _end_sessions(uow, [user.id], SessionEnd.ENDED_BY_ADMIN, keep_session_id=keep_session_id)
        if ended:
            uow.audit(actor, "end-sessions", ENTITY, user.id, details={"sessions_ended": ended or None})
        total += ended
    await uow.flush()
    return total


# -- sessions --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginTicket:
    """A new session: the token goes into the browser's (signed) cookie, only its hash into the database."""

    token: str
    session_id: int
    user_id: int
    locale: str
    must_change_password: bool


async def record_login(
    uow: UnitOfWork,
    *,
    user_id: int,
    verified_hash: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
) -> LoginTicket | None:
    """Open a session for a user whose password was just checked against ``verified_hash``.

    None when the account changed in between (deactivated, password reset): that login does not count.
    Upgrades the password hash when the hashing parameters changed, and purges the account's old sessions.
    """
    user = (await _lock(uow, [user_id]))[user_id]
    if not user.is_active or user.password_hash != verified_hash:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hash_password, password)
    now = datetime.now(UTC)
    user.last_login_at = now
    token = new_session_token()
    record = StaffSession(
        token_hash=session_token_hash(token),
        staff_user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        ip=(ip or None) and ip[:45],
        user_agent=(user_agent or None) and user_agent[:MAX_USER_AGENT_LENGTH],
    )
    uow.session.add(record)
    await uow.session.execute(
        sa.delete(StaffSession).where(
            StaffSession.staff_user_id == user.id,
            sa.or_(StaffSession.revoked_at < now - SESSION_HISTORY, StaffSession.expires_at < now - SESSION_HISTORY),
        )
    )
    await uow.flush()
    return LoginTicket(token, record.id, user.id, user.locale, user.must_change_password)


async def log_out(uow: UnitOfWork, *, token: str) -> bool:
    """End the session of this token (a replayed copy of the cookie no longer works); False if none was live."""
    ended = await uow.session.execute(
        sa.update(StaffSession)
        .where(StaffSession.token_hash == session_token_hash(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=sa.func.now(), revoked_reason=SessionEnd.LOGOUT)
        .returning(StaffSession.id)
    )
    return ended.first() is not None


async def touch_session(uow: UnitOfWork, *, session_id: int) -> None:
    """Note that the session is in use (for the idle timeout), at most once per ``SESSION_TOUCH_INTERVAL``."""
    await uow.session.execute(
        sa.update(StaffSession)
        .where(
            StaffSession.id == session_id,
            StaffSession.last_seen_at < sa.func.now() - SESSION_TOUCH_INTERVAL,
        )
        .values(last_seen_at=sa.func.now())
    )
