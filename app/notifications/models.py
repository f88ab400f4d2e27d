"""The email outbox: one row per message, written in the transaction of the change that causes it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import JSONB, DateTimeUTC, IdentityAuditBase, enum_type
from app.i18n import N_
from app.states import StateInfo, register


class EmailKind(StrEnum):
    CLIENT = "client"  # to a customer, in the customer's language
    STAFF = "staff"  # an alert to the shop's staff address


class EmailStatus(StrEnum):
    HELD = "held"  # written ahead, waiting for its moment (the order confirmation waits for the payment)
    QUEUED = "queued"  # due at next_attempt_at
    SENDING = "sending"  # committed before the SMTP exchange starts
    SENT = "sent"  # the SMTP server accepted it
    CAUGHT = "caught"  # no SMTP server configured (dev, demo): kept here to be read in the back office
    FAILED = "failed"  # refused for good (5xx) or out of attempts
    UNKNOWN = "unknown"  # found sending: it may have been delivered, so it is only sent again by hand


EMAIL_STATES: Mapping[EmailStatus, StateInfo] = register(
    {
        EmailStatus.HELD: StateInfo(N_("held"), "secondary", final=False, queue=None),
        EmailStatus.QUEUED: StateInfo(N_("queued"), "azure", final=False, queue=None),
        EmailStatus.SENDING: StateInfo(N_("sending"), "blue", final=False, queue=None),
        EmailStatus.SENT: StateInfo(N_("sent"), "green", final=True, queue=None),
        EmailStatus.CAUGHT: StateInfo(N_("caught"), "teal", final=True, queue=None),
        EmailStatus.FAILED: StateInfo(N_("failed"), "red", final=True, queue=None),
        EmailStatus.UNKNOWN: StateInfo(N_("delivery unknown"), "orange", final=True, queue=None),
    }
)


class EmailOutbox(IdentityAuditBase):
    """A message to send: who to, which template in which language, and the data it is rendered from."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        sa.Index(
            "uq_email_outbox_dedupe_key",
            "dedupe_key",
            unique=True,
            postgresql_where=sa.text("dedupe_key IS NOT NULL"),
        ),
        sa.Index("ix_email_outbox_due", "next_attempt_at", postgresql_where=sa.text("status IN ('queued', 'sending')")),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    kind: Mapped[EmailKind] = mapped_column(enum_type(EmailKind, "kind"))
    to_address: Mapped[str] = mapped_column(sa.String(254))
    template: Mapped[str] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(2))
    subject: Mapped[str] = mapped_column(sa.String(300))  # as rendered when queued, for the list
    context: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[EmailStatus] = mapped_column(enum_type(EmailStatus, "status"), default=EmailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    message_id: Mapped[str | None] = mapped_column(sa.String(255))
    error: Mapped[str | None] = mapped_column(sa.Text)
    # Staff alerts: one per cause and time window (topic:entity:window); the unique index refuses the second.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
