from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from advanced_alchemy.types import EncryptedString
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.config import get_settings
from app.db.base import Currency, DateTimeUTC, IdentityAuditBase, Money, Rate, enum_type


class ProviderKind(StrEnum):
    SMM_V2 = "smm_v2"
    MANUAL = "manual"
    SANDBOX = "sandbox"


def provider_key_secret() -> bytes:
    # Derived from SECRET_KEY with a purpose label; rotating SECRET_KEY means re-entering provider API keys.
    return hashlib.sha256(b"smplat:provider-api-key:" + get_settings().secret_key.encode()).digest()


class Provider(IdentityAuditBase):
    __tablename__ = "provider"

    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[ProviderKind] = mapped_column(enum_type(ProviderKind, "kind"))
    api_url: Mapped[str | None] = mapped_column(sa.String(500))
    api_key: Mapped[str | None] = mapped_column(EncryptedString(key=provider_key_secret, length=500))
    balance: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))
    currency: Mapped[str] = mapped_column(Currency, default="USD", server_default="USD")
    low_balance_threshold: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
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

    __table_args__ = (sa.UniqueConstraint("provider_id", "external_id", name="uq_provider_service_external"),)

    def __str__(self) -> str:
        return f"{self.provider.name if self.provider else self.provider_id} #{self.external_id} {self.name}"
