from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from app.db.base import DateTimeUTC, IdentityAuditBase


class Customer(IdentityAuditBase):
    __tablename__ = "customer"

    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    company: Mapped[str | None] = mapped_column(sa.String(200))
    address_line1: Mapped[str | None] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    country: Mapped[str] = mapped_column(sa.String(2), default="DE", server_default="DE")
    vat_id: Mapped[str | None] = mapped_column(sa.String(20))
    vat_id_entered_by: Mapped[str | None] = mapped_column(sa.String(254))
    vat_id_entered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    locale: Mapped[str] = mapped_column(sa.String(2), default="de", server_default="de")
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    erased_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Part of every portal session cookie: raising it (logout, erasure) ends all of the customer's portal sessions.
    portal_session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The subscription renewal notice (the only mail with a List-Unsubscribe link); off after a one-click unsubscribe.
    renewal_notices: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # When the customer's first paid order was paid: kept by a trigger on orders (migration 0032) for the reports.
    first_paid_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Orders, spend and last order, loaded where the customer list shows them (app/customers/overview.py).
    order_figures: Mapped[dict[str, Any] | None] = query_expression()

    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("locale IN ('de', 'en')", name="locale_known"),
        sa.CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_iso2"),
        sa.Index("ix_customer_email_trgm", "email", postgresql_using="gin", postgresql_ops={"email": "gin_trgm_ops"}),
        sa.Index("ix_customer_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
        sa.Index(
            "ix_customer_company_trgm", "company", postgresql_using="gin", postgresql_ops={"company": "gin_trgm_ops"}
        ),
    )

    @property
    def display_name(self) -> str:
        return self.company or self.name or self.email

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>" if self.display_name != self.email else self.email
