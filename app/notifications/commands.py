"""Staff decisions on outbox rows."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from app.actors import Actor
from app.errors import InvalidTransition
from app.i18n import N_, Message
from app.notifications.models import EMAIL_STATES, EmailOutbox, EmailStatus
from app.notifications.outbox import queue_sending
from app.uow import UnitOfWork

# A mail staff may send again: refused, out of attempts, of unknown fate, or already delivered (a client asks
# for it once more). Queued, held and sending ones are on their way already.
RESENDABLE = frozenset({EmailStatus.FAILED, EmailStatus.UNKNOWN, EmailStatus.SENT, EmailStatus.CAUGHT})


async def resend_emails(uow: UnitOfWork, *, email_ids: Sequence[int], actor: Actor) -> list[EmailOutbox]:
    """Queue a fresh attempt for each mail (rendered anew, with a new Message-ID), audited; all or none."""
    emails = list(
        await uow.session.scalars(
            sa.select(EmailOutbox).where(EmailOutbox.id.in_(set(email_ids))).order_by(EmailOutbox.id).with_for_update()
        )
    )
    for email in emails:
        if email.status not in RESENDABLE:
            raise InvalidTransition(
                Message(N_("Mail #%(id)s"), {"id": email.id}),
                Message(EMAIL_STATES[email.status].label),
                Message(EMAIL_STATES[EmailStatus.QUEUED].label),
            )
    now = uow.now()
    for email in emails:
        uow.track(email)
        email.status, email.next_attempt_at, email.error = EmailStatus.QUEUED, now, None
        email.attempts = 0
        await queue_sending(uow, email.id)
    uow.audit_changes(actor, "resend-email")
    await uow.flush()
    return emails
