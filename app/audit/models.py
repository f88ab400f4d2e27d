from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.actors import ActorKind
from app.db.base import JSONB, DateTimeUTC, IdentityBase, enum_type


class AuditLog(IdentityBase):
    """Every write by a command: who (staff, CLI, system, ...), what, before/after, from where. Append-only."""

    __tablename__ = "audit_log"

    actor_kind: Mapped[ActorKind] = mapped_column(
        enum_type(ActorKind, "actor_kind"), default=ActorKind.STAFF, server_default="staff"
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(80))
    entity_type: Mapped[str] = mapped_column(sa.String(80))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), server_default=sa.func.now())

    __table_args__ = (
        sa.Index("ix_audit_log_at", sa.text("at DESC")),
        sa.Index("ix_audit_log_entity", "entity_type", "entity_id"),
        sa.Index("ix_audit_log_actor_id", "actor_id"),
    )
