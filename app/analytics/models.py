"""Anonymous funnel events: what storefront visitors did, without knowing who they are."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Currency, DateTimeUTC, DefaultBase, IdentityBase, enum_type


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
        sa.Index("ix_funnel_event_visitor_id_kind_at", "visitor_id", "kind", "at"),
        sa.Index("ix_funnel_event_order_id", "order_id", postgresql_where=sa.text("order_id IS NOT NULL")),
    )


class _SalesDayColumns:
    """Paid orders and succeeded refunds summed per Berlin day and the order facts reports split by
    (``reports/datasets.py``)."""

    day: Mapped[date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(Currency)
    buyer_country: Mapped[str] = mapped_column(sa.String(2))
    buyer_is_business: Mapped[bool]
    source: Mapped[str] = mapped_column(sa.String(32))
    tax_treatment: Mapped[str] = mapped_column(sa.String(32))
    tax_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    orders: Mapped[int] = mapped_column(sa.BigInteger)
    net: Mapped[Decimal] = mapped_column(sa.Numeric(16, 2))
    tax: Mapped[Decimal] = mapped_column(sa.Numeric(16, 2))
    gross: Mapped[Decimal] = mapped_column(sa.Numeric(16, 2))
    refunds: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    refunds_net: Mapped[Decimal] = mapped_column(sa.Numeric(16, 2), server_default="0")
    refunds_gross: Mapped[Decimal] = mapped_column(sa.Numeric(16, 2), server_default="0")


class SalesDayChange(_SalesDayColumns, IdentityBase):
    """One paid order counted in (or, negative, taken out of) a day: written by a trigger on ``orders`` in the
    transaction that pays the order, insert-only so that concurrent payments never wait for each other.
    :func:`app.analytics.sales_days.fold_sales_day_changes` moves them into :class:`SalesDay` every few minutes."""

    __tablename__ = "sales_day_change"


class SalesDay(_SalesDayColumns, DefaultBase):
    """The folded totals: one row per day and combination of order facts. A report sums this and the changes
    not folded yet, so it is exact at any moment."""

    __tablename__ = "sales_day"

    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "day", "currency", "buyer_country", "buyer_is_business", "source", "tax_treatment", "tax_rate"
        ),
    )


class _SalesLineDayColumns:
    """Lines of paid orders summed per Berlin day, currency, tax treatment, service and provider (none: fulfilled by
    hand) for ``reports/datasets.py`` and ``reports/margin.py``: the provider's ``charge`` in its currency, and
    the lines it has not charged yet."""

    day: Mapped[date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(Currency)
    tax_treatment: Mapped[str] = mapped_column(sa.String(32))
    service_id: Mapped[int] = mapped_column(sa.BigInteger)
    provider_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    lines: Mapped[int] = mapped_column(sa.BigInteger)
    uncharged_lines: Mapped[int] = mapped_column(sa.BigInteger)
    net: Mapped[Decimal] = mapped_column(sa.Numeric(16, 2))
    charge: Mapped[Decimal] = mapped_column(sa.Numeric(20, 5))


class SalesLineDayChange(_SalesLineDayColumns, IdentityBase):
    """Lines counted in (or, negative, taken out of) a day: written by triggers on ``orders`` and ``order_line``
    in the transaction that changes them, insert-only; folded into :class:`SalesLineDay` every few minutes by
    :func:`app.analytics.sales_line_days.fold_sales_line_day_changes`."""

    __tablename__ = "sales_line_day_change"


class SalesLineDay(_SalesLineDayColumns, IdentityBase):
    """The folded line totals: one row per day, currency, tax treatment, service and provider. A report sums this
    and the changes not folded yet, so it is exact at any moment."""

    __tablename__ = "sales_line_day"

    __table_args__ = (
        sa.UniqueConstraint(
            "day", "currency", "tax_treatment", "service_id", "provider_id", postgresql_nulls_not_distinct=True
        ),
    )


class _FunnelDayColumns:
    """Visitors seen on a Berlin day at a step whose previous day at that step was ``prev_day`` (``-infinity``:
    never), over all services or (``by_service``) per service: see :mod:`app.analytics.funnel_days`."""

    by_service: Mapped[bool]
    day: Mapped[date] = mapped_column(sa.Date)
    kind: Mapped[str] = mapped_column(sa.String(32))
    service_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    prev_day: Mapped[date] = mapped_column(sa.Date)
    visitors: Mapped[int] = mapped_column(sa.BigInteger)


class FunnelDayChange(_FunnelDayColumns, IdentityBase):
    """A change of the daily visitor counts, written by a trigger on ``funnel_event`` as the event is inserted;
    folded into :class:`FunnelDay` by :func:`app.analytics.funnel_days.fold_funnel_day_changes`."""

    __tablename__ = "funnel_day_change"


class FunnelDay(_FunnelDayColumns, IdentityBase):
    """The folded visitor counts: one row per day, step, service (or all) and previous day."""

    __tablename__ = "funnel_day"

    __table_args__ = (
        sa.UniqueConstraint("by_service", "day", "kind", "service_id", "prev_day", postgresql_nulls_not_distinct=True),
    )


def _seconds_since_payment(at: str) -> sa.Computed:
    return sa.Computed(f"(EXTRACT(epoch FROM ({at} - paid_at)))::double precision", persisted=True)


class OperationsLine(DefaultBase):
    """The operations report's facts of one order line, kept by triggers on ``order_line``, ``orders``,
    ``order_event`` and ``refill_request`` (migration 0035): see :mod:`app.analytics.operations_lines`."""

    __tablename__ = "operations_line"

    line_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("order_line.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    order_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), index=True)
    provider_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    fulfillment_status: Mapped[str] = mapped_column(sa.String(32))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    dispatch_seconds: Mapped[float | None] = mapped_column(sa.Double, _seconds_since_payment("dispatched_at"))
    finish_seconds: Mapped[float | None] = mapped_column(sa.Double, _seconds_since_payment("finished_at"))
    staff_acted: Mapped[bool]
    refilled: Mapped[bool]
