"""Staff accounts: the queries (whose password is this, whose session is this) and the login throttle.

Every change to an account or a session is a command in ``app.accounts.commands``.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import LoginAttempts, Role, StaffSession, StaffUser
from app.accounts.passwords import MAX_PASSWORD_LENGTH, verify_password

MAX_EMAIL_LENGTH = 254  # RFC 5321; the staff_user.email column

# A session ends after this long without a request, and at the latest this long after the login.
SESSION_IDLE_TIMEOUT = timedelta(hours=12)
SESSION_LIFETIME = timedelta(hours=24)
# "Last seen" is written at most this often per session, so that an ordinary request only reads.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


def login_name(raw: str) -> str | None:
    """The login as typed, trimmed and lower-cased; None when it cannot be any account's email.

    Too long, control characters (NUL among them, which PostgreSQL refuses in text) or unpaired surrogates:
    such a login is an ordinary failed login, never a query.
    """
    name = raw.strip().lower()
    if not name or len(name) > MAX_EMAIL_LENGTH or any(ord(char) < 32 or ord(char) == 127 for char in name):
        return None
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return name


def throttle_key(raw: str) -> str:
    """What the login throttle counts attempts under: the login name, or a digest of one that cannot be any."""
    name = login_name(raw)
    if name is not None:
        return name
    # No "@" in a digest, so it never collides with a real login; it fits the column whatever was typed.
    return "#" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def session_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_password() -> str:
    """A random password someone else hands over; its owner changes it at the next login."""
    return secrets.token_urlsafe(12)


class StaffUserService(SQLAlchemyAsyncRepositoryService[StaffUser]):
    """Read-only questions about staff accounts."""

    class Repo(SQLAlchemyAsyncRepository[StaffUser]):
        model_type = StaffUser

    repository_type = Repo

    async def authenticate(self, login: str, password: str) -> StaffUser | None:
        """The active user with these credentials, or None; changes nothing.

        The argon2 check runs in a worker thread (it takes a good part of a second by design, and the event
        loop serves other requests meanwhile); an unknown login is checked against a dummy hash, so it takes
        as long as a wrong password. Record a success with ``commands.record_login``.
        """
        name = login_name(login)
        if len(password) > MAX_PASSWORD_LENGTH:
            return None
        user = await self.get_one_or_none(email=name) if name is not None else None
        verified = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
        if not verified or user is None or not user.is_active:
            return None
        return user

    async def count_active_admins(self) -> int:
        return await self.count(StaffUser.role == Role.ADMIN, StaffUser.is_active.is_(True))


@dataclass(frozen=True)
class ActiveSession:
    """Who a request's session token belongs to, read in one indexed lookup."""

    session_id: int
    user_id: int
    email: str
    role: Role
    locale: str
    must_change_password: bool
    last_seen_at: datetime


async def find_active_session(session: AsyncSession, token: str) -> ActiveSession | None:
    """The live session of this token (not revoked, not idle too long, not expired, its user active), or None."""
    now = sa.func.now()
    row = (
        await session.execute(
            sa.select(
                StaffSession.id,
                StaffUser.id,
                StaffUser.email,
                StaffUser.role,
                StaffUser.locale,
                StaffUser.must_change_password,
                StaffSession.last_seen_at,
            )
            .join(StaffUser, StaffUser.id == StaffSession.staff_user_id)
            .where(
                StaffSession.token_hash == session_token_hash(token),
                StaffSession.revoked_at.is_(None),
                StaffSession.expires_at > now,
                StaffSession.last_seen_at > now - SESSION_IDLE_TIMEOUT,
                StaffUser.is_active.is_(True),
            )
        )
    ).first()
    return ActiveSession(*row) if row is not None else None


class LoginThrottle:
    """At most MAX_FAILURES password checks per client IP and login within WINDOW, across all app processes.

    ``admit`` counts the attempt *before* the password is checked, in one atomic upsert, and says whether the
    check may happen; a successful login ``clear``s the count. Commit the admission before the (slow) check,
    so parallel requests see each other's attempts.
    """

    MAX_FAILURES = 5
    WINDOW = timedelta(minutes=1)
    KEEP = timedelta(days=1)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def admit(self, *, login: str, ip: str) -> bool:
        table = LoginAttempts.__table__
        window_over = table.c.window_started_at <= sa.func.now() - self.WINDOW
        insert = pg_insert(LoginAttempts).values(
            ip=ip[:45], login=throttle_key(login), attempts=1, window_started_at=sa.func.now()
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[table.c.ip, table.c.login],
            set_={
                "attempts": sa.case((window_over, 1), else_=table.c.attempts + 1),
                "window_started_at": sa.case((window_over, sa.func.now()), else_=table.c.window_started_at),
            },
        ).returning(table.c.attempts)
        attempts = int((await self.session.execute(stmt)).scalar_one())
        await self.session.execute(
            sa.delete(LoginAttempts).where(LoginAttempts.window_started_at < sa.func.now() - self.KEEP)
        )
        return attempts <= self.MAX_FAILURES

    async def clear(self, *, login: str, ip: str) -> None:
        await self.session.execute(
            sa.delete(LoginAttempts).where(LoginAttempts.ip == ip[:45], LoginAttempts.login == throttle_key(login))
        )
