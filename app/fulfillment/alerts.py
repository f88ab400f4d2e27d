"""Staff alerts: something needs a person (a provider low on funds, a line stuck, a provider dropping a service,
a Stripe event that failed processing, a dispute opened, a Lexware Office sync that failed).

An alert is an audit row (``alert:<topic>``, the back office's audit log lists every one) and a mail to the staff
address with a link to the record's back-office page, at most one per topic and record per hour
(``app.notifications.outbox.alert_staff_by_email``). Both are written in the caller's unit of work, so a
rolled-back change raises no alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import structlog

from app.actors import Actor
from app.audit.models import AuditLog
from app.notifications.outbox import alert_staff_by_email
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


def alert_action(topic: AlertTopic) -> str:
    return f"alert:{topic}"


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
