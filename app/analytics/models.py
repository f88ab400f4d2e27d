"""Anonymous funnel events: what storefront visitors did, without knowing who they are."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import DateTimeUTC, IdentityBase, enum_type


class FunnelKind(StrEnum):
    LANDING_VIEW = "landing_view"
    SERVICE_VIEW = "service_view"
    CHECKOUT_STARTED = "checkout_started"
    PAID = "paid"


class FunnelEvent(IdentityBase):
    """One step of one visitor. ``visitor_id`` is the random id of a first-party cookie: no personal data.

    No foreign keys: events are written in batches long after the view, and stay when a service is deleted.
    """

    __tablename__ = "funnel_event"

    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    kind: Mapped[FunnelKind] = mapped_column(enum_type(FunnelKind, "kind"))
    visitor_id: Mapped[str | None] = mapped_column(sa.String(40))
    service_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    order_id: Mapped[int | None] = mapped_column(sa.BigInteger)

    __table_args__ = (
        sa.Index("ix_funnel_event_at", "at"),
        sa.Index("ix_funnel_event_order_id", "order_id", postgresql_where=sa.text("order_id IS NOT NULL")),
    )
