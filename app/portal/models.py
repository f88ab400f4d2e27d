"""Portal login links and the throttle on asking for them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import DateTimeUTC, DefaultBase, IdentityBase, server_now


class PortalLoginToken(IdentityBase):
    """One emailed login link. The mail holds the random token; only its SHA-256 is stored here.

    A link logs in once (``used_at``) and only until ``expires_at``; logging in uses up the customer's other
    open links too.
    """

    __tablename__ = "portal_login_token"

    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=server_now())
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    ip: Mapped[str | None] = mapped_column(sa.String(45))


class PortalLinkRequests(DefaultBase):
    """Login links asked for per key (``email:<sha256>`` or ``ip:<address>``) in the current window.

    Counted whether or not the email belongs to a customer, so the limit tells nothing about who is one.
    """

    __tablename__ = "portal_link_requests"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    requests: Mapped[int] = mapped_column(sa.Integer)
    window_started_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
