"""Where each issued invoice and credit note stands in its booking to Lexware Office (lexoffice).

The invoice row itself is immutable (migration 0018), so the sync's state lives beside it, one row per document:
``pending`` until the voucher exists there, ``voucher_created`` once its id is recorded (committed before the
PDF is uploaded, so a crash resumes with it), ``synced`` once the PDF is attached. ``failed`` keeps the reason
for finance; ``next_attempt_at`` says when the sweep tries again (NULL: only after "Retry sync").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import DateTimeUTC, IdentityBase, enum_type, server_now
from app.i18n import N_
from app.states import StateInfo, register


class SyncStatus(StrEnum):
    PENDING = "pending"
    VOUCHER_CREATED = "voucher_created"
    SYNCED = "synced"
    FAILED = "failed"


SYNC_STATES: Mapping[SyncStatus, StateInfo] = register(
    {
        SyncStatus.PENDING: StateInfo(N_("sync pending"), "azure", final=False, queue=None),
        SyncStatus.VOUCHER_CREATED: StateInfo(N_("voucher created"), "blue", final=False, queue=None),
        SyncStatus.SYNCED: StateInfo(N_("synced"), "green", final=True, queue=None),
        SyncStatus.FAILED: StateInfo(N_("sync failed"), "red", final=False, queue=None),
    }
)

SYNC_TRANSITIONS: Mapping[SyncStatus, frozenset[SyncStatus]] = {
    SyncStatus.PENDING: frozenset({SyncStatus.VOUCHER_CREATED, SyncStatus.FAILED}),
    SyncStatus.VOUCHER_CREATED: frozenset({SyncStatus.SYNCED, SyncStatus.FAILED}),
    SyncStatus.SYNCED: frozenset(),
    # A failed sync resumes where it stopped: at the voucher when there is none yet, else at the upload.
    SyncStatus.FAILED: frozenset({SyncStatus.PENDING, SyncStatus.VOUCHER_CREATED, SyncStatus.SYNCED}),
}


class LexofficeSync(IdentityBase):
    __tablename__ = "lexoffice_sync"

    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoice.id", ondelete="RESTRICT"), unique=True)
    status: Mapped[SyncStatus] = mapped_column(enum_type(SyncStatus, "status"), default=SyncStatus.PENDING)
    voucher_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    file_uploaded: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Set (and committed) before the create request leaves: from then on a voucher may exist that we have no id
    # of, and the next attempt looks it up by our number before it creates anything.
    create_sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    synced_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=server_now())
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=server_now())

    __table_args__ = (
        sa.Index("ix_lexoffice_sync_due", "next_attempt_at", postgresql_where=sa.text("status <> 'synced'")),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("status = 'pending' OR status = 'failed' OR voucher_id IS NOT NULL", name="voucher_known"),
        sa.CheckConstraint("status <> 'synced' OR file_uploaded", name="synced_with_file"),
    )
