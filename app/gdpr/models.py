"""The client's data exports and erasure requests, each a small state machine."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import DateTimeUTC, IdentityAuditBase, enum_type
from app.i18n import N_
from app.states import StateInfo, register


class ExportStatus(StrEnum):
    PENDING = "pending"  # asked for; the job builds the file
    READY = "ready"  # the file is in the data directory, downloadable by its owner until expires_at
    EXPIRED = "expired"  # the sweep deleted the file


class ErasureStatus(StrEnum):
    REQUESTED = "requested"  # asked for by the client; an admin confirms or declines
    ERASED = "erased"  # confirmed: the customer is pseudonymised
    DECLINED = "declined"  # refused by an admin, with a reason


EXPORT_STATES: Mapping[ExportStatus, StateInfo] = register(
    {
        ExportStatus.PENDING: StateInfo(N_("being prepared"), "yellow", final=False, queue=None),
        ExportStatus.READY: StateInfo(N_("ready for download"), "green", final=False, queue=None),
        ExportStatus.EXPIRED: StateInfo(N_("expired"), "secondary", final=True, queue=None),
    }
)
ERASURE_STATES: Mapping[ErasureStatus, StateInfo] = register(
    {
        ErasureStatus.REQUESTED: StateInfo(N_("erasure requested"), "orange", final=False, queue=None),
        ErasureStatus.ERASED: StateInfo(N_("erased"), "secondary", final=True, queue=None),
        ErasureStatus.DECLINED: StateInfo(N_("declined"), "red", final=True, queue=None),
    }
)


class DataExport(IdentityAuditBase):
    """One "Download my data" request: a ZIP built by a job, kept for a few days, then deleted."""

    __tablename__ = "data_export"

    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ExportStatus] = mapped_column(enum_type(ExportStatus, "status"), default=ExportStatus.PENDING)
    ready_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    file_name: Mapped[str | None] = mapped_column(sa.String(100))
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)

    __table_args__ = (
        # One export in the making per client: asking again while one is built is refused by the database.
        sa.Index(
            "uq_data_export_one_pending", "customer_id", unique=True, postgresql_where=sa.text("status = 'pending'")
        ),
    )


class ErasureRequest(IdentityAuditBase):
    """A client's request to be erased, and the admin's decision on it."""

    __tablename__ = "erasure_request"

    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ErasureStatus] = mapped_column(enum_type(ErasureStatus, "status"), default=ErasureStatus.REQUESTED)
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        # One open request per client: the second "Request erasure" finds the first.
        sa.Index(
            "uq_erasure_request_one_open", "customer_id", unique=True, postgresql_where=sa.text("status = 'requested'")
        ),
    )
