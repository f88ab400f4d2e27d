from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Currency, DefaultBase, IdentityAuditBase, Rate, enum_type

if TYPE_CHECKING:
    from app.fulfillment.models import ProviderService


class Platform(StrEnum):
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    FACEBOOK = "facebook"
    X = "x"
    TELEGRAM = "telegram"
    SPOTIFY = "spotify"
    OTHER = "other"


PLATFORM_LABELS = {
    Platform.INSTAGRAM: "Instagram",
    Platform.TIKTOK: "TikTok",
    Platform.YOUTUBE: "YouTube",
    Platform.FACEBOOK: "Facebook",
    Platform.X: "X",
    Platform.TELEGRAM: "Telegram",
    Platform.SPOTIFY: "Spotify",
}


class ServiceKind(StrEnum):
    DEFAULT = "default"
    PACKAGE = "package"
    CUSTOM_COMMENTS = "custom_comments"
    SUBSCRIPTION = "subscription"
    DRIP_FEED = "drip_feed"


class PriceBasis(StrEnum):
    """What ``Service.price`` is the price of."""

    PER_1000 = "per_1000"
    PER_PACKAGE = "per_package"
    PER_MONTH = "per_month"


PRICE_BASIS = {
    ServiceKind.DEFAULT: PriceBasis.PER_1000,
    ServiceKind.CUSTOM_COMMENTS: PriceBasis.PER_1000,
    ServiceKind.DRIP_FEED: PriceBasis.PER_1000,
    ServiceKind.PACKAGE: PriceBasis.PER_PACKAGE,
    ServiceKind.SUBSCRIPTION: PriceBasis.PER_MONTH,
}


class Category(IdentityAuditBase):
    __tablename__ = "category"

    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    platform: Mapped[Platform] = mapped_column(enum_type(Platform, "platform"))
    name_de: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    services: Mapped[list[Service]] = relationship(back_populates="category", order_by="Service.position")

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en

    def __str__(self) -> str:
        return self.name_en


class Service(IdentityAuditBase):
    __tablename__ = "service"

    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[ServiceKind] = mapped_column(enum_type(ServiceKind, "kind"), default=ServiceKind.DEFAULT)
    name_de: Mapped[str] = mapped_column(sa.String(160))
    name_en: Mapped[str] = mapped_column(sa.String(160))
    description_de: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Meaning depends on kind, see PRICE_BASIS: per 1000 units, per package or per month.
    price: Mapped[Decimal] = mapped_column(Rate)
    currency: Mapped[str] = mapped_column(Currency, default="EUR", server_default="EUR")
    min_quantity: Mapped[int] = mapped_column(default=1)
    max_quantity: Mapped[int] = mapped_column(default=1)
    refill_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # What the tracking page promises: "starts within N hours", then about this many units a day.
    expected_start_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    speed_per_day: Mapped[int] = mapped_column(default=1000, server_default="1000")
    cancellable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    provider_service_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("provider_service.id", ondelete="SET NULL"), index=True
    )

    category: Mapped[Category] = relationship(back_populates="services", lazy="joined")
    provider_service: Mapped[ProviderService | None] = relationship(lazy="selectin")

    __table_args__ = (
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("min_quantity >= 1 AND max_quantity >= min_quantity", name="quantity_bounds"),
        sa.CheckConstraint("refill_days >= 0", name="refill_days_not_negative"),
        sa.CheckConstraint("expected_start_hours > 0", name="expected_start_hours_positive"),
        sa.CheckConstraint("speed_per_day > 0", name="speed_per_day_positive"),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug_format"),
    )

    @property
    def price_basis(self) -> PriceBasis:
        return PRICE_BASIS[self.kind]

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en

    def description(self, locale: str) -> str:
        return self.description_de if locale == "de" else self.description_en

    def __str__(self) -> str:
        return self.name_en


class CatalogVersion(DefaultBase):
    """One row whose ``version`` changes (trigger, migration 0012) in every transaction that changes a category,
    a service or the company settings: what the storefront's page cache compares against.

    The value comes from a sequence, so it never returns to an earlier value, even if the row is deleted.
    """

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)
