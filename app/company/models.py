from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import IdentityAuditBase, enum_type
from app.invoicing.tax import ServiceClassification


class CompanySettings(IdentityAuditBase):
    """The seller: one row, edited by admin/finance, snapshotted onto every invoice."""

    __tablename__ = "company_settings"

    legal_name: Mapped[str] = mapped_column(sa.String(200))
    address_line1: Mapped[str] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    postal_code: Mapped[str] = mapped_column(sa.String(20))
    city: Mapped[str] = mapped_column(sa.String(100))
    country: Mapped[str] = mapped_column(sa.String(2), default="DE", server_default="DE")
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    website: Mapped[str | None] = mapped_column(sa.String(200))
    tax_number: Mapped[str | None] = mapped_column(sa.String(40))  # Steuernummer
    vat_id: Mapped[str | None] = mapped_column(sa.String(20))  # USt-IdNr.
    managing_director: Mapped[str | None] = mapped_column(sa.String(200))
    register_court: Mapped[str | None] = mapped_column(sa.String(120))
    register_number: Mapped[str | None] = mapped_column(sa.String(60))
    bank_name: Mapped[str | None] = mapped_column(sa.String(120))
    iban: Mapped[str | None] = mapped_column(sa.String(34))
    bic: Mapped[str | None] = mapped_column(sa.String(11))
    is_small_business: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # §19 UStG
    # What our services are for the place-of-supply rules on sales to consumers (app/invoicing/tax.py).
    service_classification: Mapped[ServiceClassification] = mapped_column(
        enum_type(ServiceClassification, "service_classification"),
        default=ServiceClassification.ELECTRONIC,
        server_default=ServiceClassification.ELECTRONIC.value,
    )
    # DATEV (app/invoicing/datev.py): the advisor's numbers for this client and the SKR03 accounts bookings go to.
    datev_consultant_number: Mapped[int | None] = mapped_column(sa.Integer)  # Beraternummer
    datev_client_number: Mapped[int | None] = mapped_column(sa.Integer)  # Mandantennummer
    datev_debtor_account: Mapped[int] = mapped_column(default=10000, server_default=sa.text("10000"))
    datev_account_domestic: Mapped[int] = mapped_column(default=8400, server_default=sa.text("8400"))
    datev_account_reverse_charge: Mapped[int] = mapped_column(default=8336, server_default=sa.text("8336"))
    datev_account_eu_oss: Mapped[int] = mapped_column(default=8331, server_default=sa.text("8331"))
    datev_account_non_eu_business: Mapped[int] = mapped_column(default=8338, server_default=sa.text("8338"))
    datev_account_non_eu_consumer: Mapped[int] = mapped_column(default=8338, server_default=sa.text("8338"))
    datev_account_small_business: Mapped[int] = mapped_column(default=8195, server_default=sa.text("8195"))

    __table_args__ = (
        # A singleton: the row's id is always 1.
        sa.CheckConstraint("id = 1", name="singleton"),
        sa.CheckConstraint("tax_number IS NOT NULL OR vat_id IS NOT NULL", name="tax_identification"),
    )

    def __str__(self) -> str:
        return self.legal_name
