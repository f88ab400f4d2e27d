from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.db.base import JSONB, Currency, DateTimeUTC, DefaultBase, IdentityAuditBase, Money, enum_type
from app.i18n import N_
from app.states import StateInfo, register

if TYPE_CHECKING:
    from app.customers.models import Customer


class PaymentMethod(StrEnum):
    STRIPE = "stripe"
    BANK_TRANSFER = "bank_transfer"
    DEMO = "demo"


class PaymentRecordStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"


PAYMENT_RECORD_STATES: Mapping[PaymentRecordStatus, StateInfo] = register(
    {
        PaymentRecordStatus.PENDING: StateInfo(N_("pending"), "yellow", final=False, queue=None),
        PaymentRecordStatus.SUCCEEDED: StateInfo(N_("succeeded"), "green", final=False, queue=None),
        PaymentRecordStatus.FAILED: StateInfo(N_("failed"), "red", final=True, queue=None),
        PaymentRecordStatus.EXPIRED: StateInfo(N_("expired"), "secondary", final=True, queue=None),
    }
)


class Payment(IdentityAuditBase):
    """One attempt to collect an order's money, through one payment method."""

    __tablename__ = "payment"

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod, "method"))
    status: Mapped[PaymentRecordStatus] = mapped_column(
        enum_type(PaymentRecordStatus, "status"), default=PaymentRecordStatus.PENDING
    )
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    currency: Mapped[str] = mapped_column(Currency)
    paid_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # The order's number, loaded where a list shows it (with_expression); no join on every load of a payment.
    order_number: Mapped[str | None] = query_expression()

    __table_args__ = (
        sa.CheckConstraint("amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= amount", name="amounts"),
    )


class RefundStatus(StrEnum):
    PENDING = "pending"  # asked for (or sent to the processor), no answer recorded yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"


REFUND_STATES: Mapping[RefundStatus, StateInfo] = register(
    {
        RefundStatus.PENDING: StateInfo(N_("pending"), "yellow", final=False, queue=None),
        RefundStatus.SUCCEEDED: StateInfo(N_("succeeded"), "green", final=True, queue=None),
        RefundStatus.FAILED: StateInfo(N_("failed"), "red", final=True, queue=None),
    }
)


class Refund(IdentityAuditBase):
    """Money given back on a payment: for one order line (ours) or for no line (made in the Stripe dashboard).

    The row exists before the processor is asked (``pending``, with the idempotency key the request carries),
    so a crash between the request and the answer is retried with the same key instead of refunding twice.
    """

    __tablename__ = "refund"

    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_line.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(Currency)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[RefundStatus] = mapped_column(enum_type(RefundStatus, "status"), default=RefundStatus.PENDING)
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    requested_by: Mapped[str] = mapped_column(sa.String(254))
    failure: Mapped[str | None] = mapped_column(sa.Text)  # the processor's reason when it refused
    # The order paid by its payment, and the line's name ("SMP-2026-000012/1"), loaded where a list shows them.
    order_id: Mapped[int | None] = query_expression()
    order_number: Mapped[str | None] = query_expression()
    line_name: Mapped[str | None] = query_expression()

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)


class StripeEvent(DefaultBase):
    """Each webhook event once: the event id is the primary key, so a redelivery is a no-op insert."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # Stripe's evt_... id
    type: Mapped[str] = mapped_column(sa.String(100), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=sa.func.now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    error: Mapped[str | None] = mapped_column(sa.Text)


class CheckoutLink(IdentityAuditBase):
    """A payment link staff send to a customer: fixed items, optional price overrides, an expiry."""

    __tablename__ = "checkout_link"

    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    # [{"service_id": 1, "quantity": 1000, "link": "...", "unit_price": "2.5000" | null}, ...]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    currency: Mapped[str] = mapped_column(Currency, default="EUR")
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    max_uses: Mapped[int] = mapped_column(default=1, server_default="1")
    note: Mapped[str | None] = mapped_column(sa.Text)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)
    # Orders placed through the link that still stand; loaded where a list shows statuses (with_expression).
    uses: Mapped[int | None] = query_expression()

    __table_args__ = (sa.CheckConstraint("max_uses >= 1", name="max_uses_positive"),)


class LinkStatus(StrEnum):
    """Whether a checkout link can still be paid (derived: flag, expiry and the orders it produced)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    USED_UP = "used_up"
    DEACTIVATED = "deactivated"


LINK_STATES: Mapping[LinkStatus, StateInfo] = register(
    {
        LinkStatus.ACTIVE: StateInfo(N_("active"), "green", final=False, queue=None),
        LinkStatus.EXPIRED: StateInfo(N_("expired"), "secondary", final=True, queue=None),
        LinkStatus.USED_UP: StateInfo(N_("used up"), "azure", final=True, queue=None),
        LinkStatus.DEACTIVATED: StateInfo(N_("deactivated"), "red", final=True, queue=None),
    }
)


class SubscriptionStatus(StrEnum):
    INCOMPLETE = "incomplete"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    CANCELED = "canceled"


SUBSCRIPTION_STATES: Mapping[SubscriptionStatus, StateInfo] = register(
    {
        SubscriptionStatus.INCOMPLETE: StateInfo(N_("incomplete"), "yellow", final=False, queue=None),
        SubscriptionStatus.ACTIVE: StateInfo(N_("active"), "green", final=False, queue=None),
        SubscriptionStatus.PAST_DUE: StateInfo(N_("past due"), "orange", final=False, queue=None),
        SubscriptionStatus.PAUSED: StateInfo(N_("paused"), "secondary", final=False, queue=None),
        SubscriptionStatus.CANCELED: StateInfo(N_("canceled"), "secondary", final=True, queue=None),
    }
)


class Subscription(IdentityAuditBase):
    __tablename__ = "subscription"

    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id", ondelete="RESTRICT"))
    stripe_subscription_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_type(SubscriptionStatus, "status"), default=SubscriptionStatus.INCOMPLETE
    )
    target_username: Mapped[str] = mapped_column(sa.String(200))
    posts_per_period: Mapped[int] = mapped_column(default=4)
    quantity_per_post: Mapped[int] = mapped_column(default=100)
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(Currency, default="EUR")
    current_period_end: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
