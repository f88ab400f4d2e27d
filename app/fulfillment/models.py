from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.crypto import EncryptedSecret, UnreadableSecret
from app.i18n import N_
from app.states import StateInfo, finals, register, sql_in

if TYPE_CHECKING:
    from app.catalog.models import Service
from app.db.base import Currency, DateTimeUTC, IdentityAuditBase, Money, Rate, enum_type


class ProviderKind(StrEnum):
    SMM_V2 = "smm_v2"
    MANUAL = "manual"
    SANDBOX = "sandbox"


class Provider(IdentityAuditBase):
    __tablename__ = "provider"

    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[ProviderKind] = mapped_column(enum_type(ProviderKind, "kind"))
    api_url: Mapped[str | None] = mapped_column(sa.String(500))
    # Encrypted under the key ring; deferred: loaded only where asked for (app.fulfillment.credentials).
    api_key: Mapped[str | UnreadableSecret | None] = mapped_column(
        EncryptedSecret("provider-api-key", length=500), deferred=True, deferred_raiseload=True
    )
    balance: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    currency: Mapped[str] = mapped_column(Currency, default="USD", server_default="USD")
    low_balance_threshold: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    # EUR per unit of the provider's currency, for margins (1 for EUR providers); set by staff.
    eur_per_unit: Mapped[Decimal] = mapped_column(sa.Numeric(12, 6), default=Decimal(1), server_default="1")
    balance_synced_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    services_synced_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    notes: Mapped[str | None] = mapped_column(sa.Text)

    services: Mapped[list[ProviderService]] = relationship(back_populates="provider")

    __table_args__ = (sa.CheckConstraint("kind = 'manual' OR api_url IS NOT NULL", name="api_url_for_remote"),)

    @property
    def is_low_on_balance(self) -> bool:
        return self.balance is not None and self.balance < self.low_balance_threshold

    def __str__(self) -> str:
        return self.name


class ProviderService(IdentityAuditBase):
    """One entry of a provider's ``services`` list, as last synced."""

    __tablename__ = "provider_service"

    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("provider.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(300))
    type: Mapped[str] = mapped_column(sa.String(60), default="Default")
    category: Mapped[str | None] = mapped_column(sa.String(200))
    rate: Mapped[Decimal] = mapped_column(Rate)
    min_quantity: Mapped[int] = mapped_column(default=1)
    max_quantity: Mapped[int] = mapped_column(default=1)
    refill: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    cancel: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_listed: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    synced_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    provider: Mapped[Provider] = relationship(back_populates="services", lazy="joined")
    # Our catalog services fulfilled by this upstream service (for margins).
    catalog_services: Mapped[list[Service]] = relationship(viewonly=True, lazy="selectin")

    __table_args__ = (sa.UniqueConstraint("provider_id", "external_id", name="uq_provider_service_external"),)

    def __str__(self) -> str:
        return f"{self.provider.name if self.provider else self.provider_id} #{self.external_id} {self.name}"


class RefillStatus(StrEnum):
    REQUESTED = "requested"  # recorded; the worker sends it to the provider
    SENT = "sent"  # the provider accepted it (provider_refill_id set)
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"


REFILL_STATES: Mapping[RefillStatus, StateInfo] = register(
    {
        RefillStatus.REQUESTED: StateInfo(N_("requested"), "yellow", final=False, queue=None),
        RefillStatus.SENT: StateInfo(N_("sent"), "blue", final=False, queue=None),
        RefillStatus.IN_PROGRESS: StateInfo(N_("in progress"), "azure", final=False, queue=None),
        RefillStatus.COMPLETED: StateInfo(N_("completed"), "green", final=True, queue=None),
        RefillStatus.REJECTED: StateInfo(N_("rejected"), "secondary", final=True, queue=None),
        RefillStatus.FAILED: StateInfo(N_("failed"), "red", final=True, queue=None),
    }
)
# At most one refill per line in these states (the partial unique index uq_refill_request_open_per_line).
OPEN_REFILL_STATES = frozenset(REFILL_STATES) - finals(REFILL_STATES)


class RefillRequest(IdentityAuditBase):
    """A refill of a delivered line (followers dropped), asked for by staff or by the client."""

    __tablename__ = "refill_request"

    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="CASCADE"))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider.id", ondelete="RESTRICT"))
    provider_refill_id: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[RefillStatus] = mapped_column(enum_type(RefillStatus, "status"), default=RefillStatus.REQUESTED)
    requested_by: Mapped[str] = mapped_column(sa.String(254))
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_refill_request_order_line_id", "order_line_id"),
        # At most one open refill per line.
        sa.Index(
            "uq_refill_request_open_per_line",
            "order_line_id",
            unique=True,
            postgresql_where=sa.text(f"status IN ({sql_in(OPEN_REFILL_STATES)})"),
        ),
    )
