from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.actors import ActorKind
from app.catalog.models import ServiceKind
from app.db.base import JSONB, Currency, DateTimeUTC, IdentityAuditBase, IdentityBase, Money, Rate, enum_type, metadata
from app.i18n import N_
from app.invoicing.tax import TaxTreatment
from app.orders.states import ACTIVE_UPSTREAM, LineStatus, OrderStatus, PaymentStatus
from app.states import sql_in

if TYPE_CHECKING:
    from app.catalog.models import Service
    from app.customers.models import Customer
    from app.fulfillment.models import Provider

# Order numbers come from their own sequence so they are never reused, whatever happens to rows.
order_number_seq = sa.Sequence("order_number_seq", start=1, metadata=metadata)


class OrderSource(StrEnum):
    STOREFRONT = "storefront"
    LINK = "link"
    API = "api"
    ADMIN = "admin"
    RENEWAL = "renewal"


# How each source reads for staff (catalog ids; the back office and the order timeline translate them).
SOURCE_LABELS = {
    OrderSource.STOREFRONT: N_("storefront"),
    OrderSource.LINK: N_("checkout link"),
    OrderSource.API: N_("API"),
    OrderSource.ADMIN: N_("back office"),
    OrderSource.RENEWAL: N_("renewal"),
}


class Order(IdentityAuditBase):
    __tablename__ = "orders"  # plural: ORDER is an SQL keyword

    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    source: Mapped[OrderSource] = mapped_column(enum_type(OrderSource, "source"))
    status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus, "status"), default=OrderStatus.PENDING_PAYMENT)
    payment_status: Mapped[PaymentStatus] = mapped_column(
        enum_type(PaymentStatus, "payment_status"), default=PaymentStatus.UNPAID
    )
    currency: Mapped[str] = mapped_column(Currency, default="EUR")
    net: Mapped[Decimal] = mapped_column(Money)
    tax: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    tax_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    tax_treatment: Mapped[TaxTreatment] = mapped_column(enum_type(TaxTreatment, "tax_treatment"))
    # The buyer facts the tax was decided on, as they were at checkout (the customer record may change later).
    buyer_country: Mapped[str] = mapped_column(sa.String(2), default="DE", server_default="DE")
    buyer_is_business: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    buyer_vat_id: Mapped[str | None] = mapped_column(sa.String(20))
    tracking_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    customer_note: Mapped[str | None] = mapped_column(sa.Text)
    checkout_link_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checkout_link.id", ondelete="SET NULL"))
    subscription_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscription.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Bumped by every command that changes the order or its lines: optimistic checks and ETags compare it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    customer: Mapped[Customer] = relationship(lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.position", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("net >= 0 AND tax >= 0 AND gross = net + tax", name="totals_consistent"),
        sa.CheckConstraint("number ~ '^SMP-[0-9]{4}-[0-9]{6,}$'", name="number_format"),
        sa.Index("ix_orders_created_at_id", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.Index("ix_orders_status_created_at", "status", sa.text("created_at DESC")),
        sa.Index("ix_orders_payment_status_created_at", "payment_status", sa.text("created_at DESC")),
        sa.Index("ix_orders_customer_id_created_at", "customer_id", sa.text("created_at DESC")),
        sa.Index("ix_orders_checkout_link_id", "checkout_link_id"),
        sa.Index("ix_orders_subscription_id", "subscription_id"),
        # Revenue figures read from the index alone (index-only scans): what they sum and filter on is included.
        sa.Index(
            "ix_orders_paid_at",
            "paid_at",
            postgresql_where=sa.text("paid_at IS NOT NULL"),
            postgresql_include=["payment_status", "currency", "net", "gross"],
        ),
        # EU cross-border consumer sales per year: the €10,000 threshold of §3a Abs. 5 UStG.
        sa.Index(
            "ix_orders_cross_border_b2c",
            "paid_at",
            postgresql_where=sa.text("buyer_country <> 'DE' AND NOT buyer_is_business AND paid_at IS NOT NULL"),
            postgresql_include=["net", "buyer_country", "tax_treatment"],
        ),
        # Staff search order numbers by any fragment ("000123", "2026-0001").
        sa.Index("ix_orders_number_trgm", "number", postgresql_using="gin", postgresql_ops={"number": "gin_trgm_ops"}),
    )

    def __str__(self) -> str:
        return self.number


class OrderLine(IdentityAuditBase):
    __tablename__ = "order_line"

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=1)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id", ondelete="RESTRICT"))
    service_name: Mapped[str] = mapped_column(sa.String(160))
    service_kind: Mapped[ServiceKind] = mapped_column(enum_type(ServiceKind, "service_kind"))
    link: Mapped[str] = mapped_column(sa.String(500))
    quantity: Mapped[int]
    comments: Mapped[str | None] = mapped_column(sa.Text)
    runs: Mapped[int | None]
    interval_minutes: Mapped[int | None]
    unit_price: Mapped[Decimal] = mapped_column(Rate)
    net: Mapped[Decimal] = mapped_column(Money)
    fulfillment_status: Mapped[LineStatus] = mapped_column(
        enum_type(LineStatus, "fulfillment_status"), default=LineStatus.AWAITING_PAYMENT
    )
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider.id", ondelete="RESTRICT"))
    provider_service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider_service.id", ondelete="SET NULL"))
    provider_order_id: Mapped[str | None] = mapped_column(sa.String(64))
    start_count: Mapped[int | None]
    remains: Mapped[int | None]
    charge: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 5))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # When the line entered its current fulfillment status (queues show time in state from here).
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTimeUTC(timezone=True), default=lambda: datetime.now(UTC), server_default=sa.func.now()
    )
    last_progress_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    order: Mapped[Order] = relationship(back_populates="lines")
    service: Mapped[Service] = relationship(lazy="joined")
    provider: Mapped[Provider | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("quantity >= 1", name="quantity_positive"),
        sa.CheckConstraint("net >= 0 AND unit_price >= 0", name="amounts_not_negative"),
        sa.CheckConstraint("remains IS NULL OR remains >= 0", name="remains_not_negative"),
        sa.UniqueConstraint("order_id", "position", name="uq_order_line_position"),
        sa.Index(
            "uq_order_line_provider_order",
            "provider_id",
            "provider_order_id",
            unique=True,
            postgresql_where=sa.text("provider_order_id IS NOT NULL"),
        ),
        # Never two requests possibly live at a provider for the same link and provider service.
        sa.Index(
            "uq_order_line_active_upstream",
            "provider_service_id",
            "link",
            unique=True,
            postgresql_where=sa.text(f"fulfillment_status IN ({sql_in(ACTIVE_UPSTREAM)})"),
        ),
        sa.Index("ix_order_line_order_id", "order_id"),
        sa.Index("ix_order_line_service_id", "service_id"),
        sa.Index("ix_order_line_provider_id", "provider_id"),
        sa.Index("ix_order_line_fulfillment_status", "fulfillment_status", "status_changed_at"),
        sa.Index("ix_order_line_link_trgm", "link", postgresql_using="gin", postgresql_ops={"link": "gin_trgm_ops"}),
        sa.Index("ix_order_line_provider_order_id", "provider_order_id"),
        sa.Index(
            "ix_order_line_next_poll_at",
            "next_poll_at",
            postgresql_where=sa.text("next_poll_at IS NOT NULL"),
        ),
    )

    @property
    def last_movement_at(self) -> datetime:
        """The last sign of life at the provider: progress reported, else dispatch, else the last status change."""
        return self.last_progress_at or self.dispatched_at or self.status_changed_at

    @property
    def progress(self) -> float | None:
        """Delivered share 0..1, when the provider reported what remains."""
        if self.remains is None or not self.quantity:
            return None
        return max(0.0, min(1.0, (self.quantity - self.remains) / self.quantity))

    def __str__(self) -> str:
        return f"{self.service_name} x{self.quantity}"


class EventKind(StrEnum):
    CREATED = "created"
    STATUS = "status"
    PAYMENT_STATUS = "payment_status"
    LINE_STATUS = "line_status"
    NOTE = "note"
    PROVIDER = "provider"
    NOTIFICATION = "notification"


class OrderEvent(IdentityBase):
    """One thing that happened to an order: staff read these as the order's timeline."""

    __tablename__ = "order_event"

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_line.id", ondelete="CASCADE"))
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, "kind"))
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str | None] = mapped_column(sa.String(32))
    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind, "actor_kind"))
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_label: Mapped[str | None] = mapped_column(sa.String(254))
    note: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=sa.func.now())

    order: Mapped[Order] = relationship(lazy="raise")
    line: Mapped[OrderLine | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.Index("ix_order_event_order_id_at", "order_id", sa.text("at DESC")),
        sa.Index("ix_order_event_line_id", "line_id"),
    )


class OrderStatusTally(IdentityBase):
    """Orders by status, kept by the database: the sum of ``delta`` per status is the number of orders in it.

    Triggers on ``orders`` (migration 0007, ``smplat_tally_order_status``) add +1/-1 rows in the same transaction as
    every insert, status change, delete or truncate, and fold the rows into one per status now and then. Nothing
    else writes here. Loads that bypass triggers (``session_replication_role = replica``) must rebuild it:
    ``DELETE FROM order_status_tally; INSERT INTO order_status_tally (status, delta) SELECT status, count(*)
    FROM orders GROUP BY status``.
    """

    __tablename__ = "order_status_tally"

    status: Mapped[str] = mapped_column(sa.String(32))
    delta: Mapped[int] = mapped_column(sa.BigInteger())
