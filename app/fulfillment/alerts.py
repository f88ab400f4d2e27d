"""Staff alerts: something needs a person (a provider low on funds, a line stuck, a provider dropping a service,
a Stripe event that failed processing, a dispute opened, a Lexware Office sync that failed, an Instagram access
token refused).

An alert is an audit row (``alert:<topic>``, the back office's audit log lists every one) and a mail to the staff
address with a link to the record's back-office page, at most one per topic and record per hour
(``app.notifications.outbox.alert_staff_by_email``). Both are written in the caller's unit of work, so a
rolled-back change raises no alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.audit.models import AuditLog
from app.i18n import N_
from app.notifications.outbox import alert_staff_by_email, record_path
from app.uow import UnitOfWork

log = structlog.get_logger(__name__)


class AlertTopic(StrEnum):
    PROVIDER_BALANCE_LOW = "provider-balance-low"
    PROVIDER_BALANCE_RESTORED = "provider-balance-restored"
    PROVIDER_SERVICE_REMOVED = "provider-service-removed"
    PROVIDER_RATE_CHANGED = "provider-rate-changed"
    LINE_STUCK = "line-stuck"
    DISPATCH_UNKNOWN = "dispatch-unknown"
    LEXOFFICE_SYNC_FAILED = "lexoffice-sync-failed"
    WEBHOOK_FAILED = "webhook-failed"
    DISPUTE_OPENED = "dispute-opened"
    INSTAGRAM_TOKEN_REFUSED = "instagram-token-refused"  # noqa: S105 - a topic, not a secret


TOPIC_LABELS = {
    AlertTopic.PROVIDER_BALANCE_LOW: N_("Provider balance low"),
    AlertTopic.PROVIDER_BALANCE_RESTORED: N_("Provider balance restored"),
    AlertTopic.PROVIDER_SERVICE_REMOVED: N_("Provider service removed"),
    AlertTopic.PROVIDER_RATE_CHANGED: N_("Provider rate changed"),
    AlertTopic.LINE_STUCK: N_("Line stuck"),
    AlertTopic.DISPATCH_UNKNOWN: N_("Dispatch unknown"),
    AlertTopic.LEXOFFICE_SYNC_FAILED: N_("Lexware Office sync failed"),
    AlertTopic.WEBHOOK_FAILED: N_("Webhook failed"),
    AlertTopic.DISPUTE_OPENED: N_("Dispute opened"),
    AlertTopic.INSTAGRAM_TOKEN_REFUSED: N_("Instagram access refused"),
}
ALERT_PREFIX = "alert:"
TOPICS = frozenset(topic.value for topic in AlertTopic)
RECENT = timedelta(hours=24)


@dataclass(frozen=True)
class RecentAlert:
    """An alert as the dashboard lists it: what, about which record (its back-office page), when."""

    topic: AlertTopic
    path: str
    at: datetime


def alert_action(topic: AlertTopic) -> str:
    return f"{ALERT_PREFIX}{topic}"


async def recent_alerts(session: AsyncSession, *, now: datetime, limit: int = 10) -> list[RecentAlert]:
    """The newest alerts of the last 24 hours (the audit log's time index, read backwards)."""
    rows = await session.execute(
        sa.select(AuditLog.action, AuditLog.entity_type, AuditLog.entity_id, AuditLog.at)
        .where(AuditLog.at >= now - RECENT, AuditLog.action.startswith(ALERT_PREFIX))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    )
    return [
        RecentAlert(AlertTopic(action.removeprefix(ALERT_PREFIX)), record_path(entity_type, entity_id or ""), at)
        for action, entity_type, entity_id, at in rows.all()
        if action.removeprefix(ALERT_PREFIX) in TOPICS
    ]


async def alert_staff(
    uow: UnitOfWork,
    actor: Actor,
    topic: AlertTopic,
    entity_type: str,
    entity_id: int | str,
    *,
    message: str,
    details: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Record an alert for staff (an audit row) and mail it to them (deduplicated per topic, record and hour)."""
    row = uow.audit(actor, alert_action(topic), entity_type, entity_id, details={"message": message, **(details or {})})
    email_id = await alert_staff_by_email(
        uow, topic=str(topic), entity_type=entity_type, entity_id=entity_id, message=message
    )
    log.warning(
        "staff alert",
        topic=str(topic),
        entity_type=entity_type,
        entity_id=str(entity_id),
        message=message,
        mailed=email_id is not None,
    )
    return row
