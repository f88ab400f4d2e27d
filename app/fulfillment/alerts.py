"""Staff alerts: something needs a person (a provider low on funds, a line stuck, a provider dropping a service).

Until notifications exist, an alert is an audit row (``alert:<topic>``, the back office's audit log lists it) and
a call to :func:`alert_staff_pending`, the hook the notifications work fills in (e-mail, chat). Both happen in the
caller's unit of work, so a rolled-back change raises no alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import structlog

from app.actors import Actor
from app.audit.models import AuditLog
from app.uow import UnitOfWork

log = structlog.get_logger(__name__)


class AlertTopic(StrEnum):
    PROVIDER_BALANCE_LOW = "provider-balance-low"
    PROVIDER_BALANCE_RESTORED = "provider-balance-restored"
    PROVIDER_SERVICE_REMOVED = "provider-service-removed"
    PROVIDER_RATE_CHANGED = "provider-rate-changed"
    LINE_STUCK = "line-stuck"


def alert_action(topic: AlertTopic) -> str:
    return f"alert:{topic}"


def alert_staff(
    uow: UnitOfWork,
    actor: Actor,
    topic: AlertTopic,
    entity_type: str,
    entity_id: int | str,
    *,
    message: str,
    details: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Record an alert for staff (an audit row) and hand it to the notification hook."""
    row = uow.audit(actor, alert_action(topic), entity_type, entity_id, details={"message": message, **(details or {})})
    alert_staff_pending(uow, topic=topic, entity_type=entity_type, entity_id=entity_id, message=message)
    return row


def alert_staff_pending(
    uow: UnitOfWork,  # noqa: ARG001 - the notifications work defers its sending job through it
    *,
    topic: AlertTopic,
    entity_type: str,
    entity_id: int | str,
    message: str,
) -> None:
    """Not yet sent anywhere: the notifications issue sends staff an e-mail here (a job deferred in ``uow``)."""
    log.warning("staff alert", topic=str(topic), entity_type=entity_type, entity_id=str(entity_id), message=message)
