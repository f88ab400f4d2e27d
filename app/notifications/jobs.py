"""Outbox jobs: send one mail, and sweep for due mails nobody is sending.

``send_email`` jobs are deferred with the outbox row (``app.notifications.outbox``), in the same transaction. The
sweep gives a job to every queued row that is due without one: rows written by state changes that cannot
defer a job themselves (``write_email``), and rows whose job was lost or failed; and a row left ``sending``
longer than any SMTP exchange can take (its worker died) becomes ``unknown`` — never sent again by itself.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import structlog
from procrastinate import RetryStrategy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import get_settings
from app.jobs import job_app, job_sessions, no_live_job
from app.notifications.delivery import Taken, deliver
from app.notifications.models import EmailOutbox, EmailStatus
from app.notifications.outbox import EMAIL_QUEUE, SEND_TASK, queue_sending, send_lock
from app.notifications.sending import CatchingMailer, Mailer, SmtpMailer
from app.uow import unit_of_work, utc_now

log = structlog.get_logger(__name__)

# Longer than any SMTP exchange may take (connect + each command's timeout): a row sending this long has no
# live worker behind it.
SENDING_STALE_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 1000


class EmailBusy(Exception):
    """Another worker holds the row for a moment: the job is retried shortly."""


def configured_mailer() -> Mailer:
    """SMTP when SMPLAT_SMTP_URL is set; otherwise mails are caught for the back office's Outbox."""
    url = get_settings().smtp_url
    return SmtpMailer.from_url(url) if url else CatchingMailer()


@job_app.task(
    name=SEND_TASK, queue=EMAIL_QUEUE, retry=RetryStrategy(max_attempts=10, wait=2, retry_exceptions={EmailBusy})
)
async def send_email_job(email_id: int) -> str:
    outcome = await deliver(job_sessions(), email_id, configured_mailer())
    if outcome == Taken.BUSY:
        raise EmailBusy(f"email {email_id} is locked")
    return str(outcome)


async def sweep_outbox(
    sessions: async_sessionmaker[AsyncSession], *, stale_after: timedelta = SENDING_STALE_AFTER
) -> tuple[int, int]:
    """(due rows given a sending job, rows left sending by a dead worker marked unknown)."""
    now = utc_now()
    no_waiting_job = no_live_job(send_lock(0).removesuffix("0"), "email_outbox.id")
    async with unit_of_work(sessions) as uow:
        orphans = list(
            await uow.session.scalars(
                sa.select(EmailOutbox.id)
                .where(
                    EmailOutbox.status == EmailStatus.QUEUED,
                    EmailOutbox.next_attempt_at <= now,
                    no_waiting_job,
                )
                .order_by(EmailOutbox.id)
                .limit(SWEEP_BATCH)
            )
        )
        for email_id in orphans:
            await queue_sending(uow, email_id)
        stale = list(
            await uow.session.scalars(
                sa.update(EmailOutbox)
                .where(EmailOutbox.status == EmailStatus.SENDING, EmailOutbox.updated_at < now - stale_after)
                .values(
                    status=EmailStatus.UNKNOWN,
                    updated_at=now,
                    error="sending for too long: the worker sending it stopped, so it may have been delivered",
                )
                .returning(EmailOutbox.id)
            )
        )
    if orphans or stale:
        log.warning("outbox sweep", requeued=len(orphans), unknown=len(stale))
    return len(orphans), len(stale)


@job_app.periodic(cron="* * * * *", periodic_id="sweep-outbox")
@job_app.task(name="notifications.sweep_outbox", queue=EMAIL_QUEUE, queueing_lock="sweep-outbox")
async def sweep_outbox_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    requeued, unknown = await sweep_outbox(job_sessions())
    return f"requeued {requeued}, unknown {unknown}"
