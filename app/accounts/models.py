from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import DateTimeUTC, IdentityAuditBase, IdentityBase, enum_type


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

    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("locale IN ('de', 'en')", name="locale_known"),
    )

    def __str__(self) -> str:
        return self.email


class LoginFailure(IdentityBase):
    """A failed admin login, kept briefly to throttle password guessing across all app processes."""

    __tablename__ = "staff_login_failure"

    email: Mapped[str] = mapped_column(sa.String(254))
    ip: Mapped[str] = mapped_column(sa.String(45))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=sa.func.now())

    __table_args__ = (sa.Index("ix_staff_login_failure_ip_email_at", "ip", "email", "at"),)
