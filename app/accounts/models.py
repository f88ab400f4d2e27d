from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import DateTimeUTC, DefaultBase, IdentityAuditBase, IdentityBase, enum_type


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    FINANCE = "finance"


class StaffUser(IdentityAuditBase):
    __tablename__ = "staff_user"

    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    locale: Mapped[str] = mapped_column(sa.String(2), default="de", server_default="de")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Set when someone else chose the password (an admin's reset or a new account): the next login must change it.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("locale IN ('de', 'en')", name="locale_known"),
    )

    def __str__(self) -> str:
        return self.email


class SessionEnd(StrEnum):
    """Why a back-office session ended before it expired."""

    LOGOUT = "logout"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason, not a password
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    DEACTIVATED = "deactivated"
    ROLE_CHANGED = "role_changed"
    ENDED_BY_ADMIN = "ended_by_admin"


class StaffSession(IdentityBase):
    """One back-office login. The browser holds a random token; only its SHA-256 is stored here.

    A request is authenticated when the token's row exists, is not revoked, has been used within the idle
    timeout and is younger than ``expires_at``. Rows are kept a while after they end (who logged in when and
    from where) and purged at later logins of the same user.
    """

    __tablename__ = "staff_session"

    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=sa.func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=sa.func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    revoked_reason: Mapped[SessionEnd | None] = mapped_column(enum_type(SessionEnd, "session_end"))


class LoginAttempts(DefaultBase):
    """Login attempts per client IP and login name in the current window, shared by all app processes.

    One row per (ip, login); the attempt is counted with one atomic upsert *before* the password is checked,
    so parallel requests can never check more passwords than the limit.
    """

    __tablename__ = "staff_login_attempts"

    ip: Mapped[str] = mapped_column(sa.String(45), primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    attempts: Mapped[int] = mapped_column(sa.Integer)
    window_started_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
