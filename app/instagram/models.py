"""Snapshots of an Instagram profile's counts, recorded while an order for it is delivered, and the Graph API
calls that asked for them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import DateTimeUTC, IdentityBase, enum_type
from app.instagram.graph_api import LookupOutcome


class InstagramSnapshot(IdentityBase):
    """The counts of one profile (``handle``, lower case, no ``@``) at one moment.

    Counts belong to the profile, not the order: one snapshot per handle and moment, whichever line asked for
    it (``line_id``, kept so a snapshot can be traced to the delivery that made us look).
    """

    __tablename__ = "instagram_snapshot"

    line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="CASCADE"))
    handle: Mapped[str] = mapped_column(sa.String(64))
    taken_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    followers: Mapped[int] = mapped_column(sa.BigInteger)
    following: Mapped[int] = mapped_column(sa.BigInteger)
    media_count: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (
        sa.UniqueConstraint("handle", "taken_at", name="uq_instagram_snapshot_handle_taken_at"),
        sa.CheckConstraint("followers >= 0 AND following >= 0 AND media_count >= 0", name="counts_not_negative"),
        sa.Index("ix_instagram_snapshot_line_id", "line_id"),
    )


class InstagramLookup(IdentityBase):
    """One Business Discovery call and what it answered: the snapshot job's memory between runs.

    The calls of the last hour are the budget spent; a "not visible" answer spares the handle for a day; the
    latest ``resume_at`` is a back-off after a rate limit; a refused token alerts staff once a day. Rows older
    than two days are pruned by the job.
    """

    __tablename__ = "instagram_lookup"

    handle: Mapped[str] = mapped_column(sa.String(64))
    asked_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    outcome: Mapped[LookupOutcome] = mapped_column(enum_type(LookupOutcome, "outcome"))
    resume_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    reason: Mapped[str | None] = mapped_column(sa.String(300))

    __table_args__ = (
        sa.Index("ix_instagram_lookup_asked_at", "asked_at"),
        sa.Index("ix_instagram_lookup_handle_asked_at", "handle", "asked_at"),
    )
