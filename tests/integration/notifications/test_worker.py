"""The real worker sends the outbox: without SMPLAT_SMTP_URL (dev, demo) its mails are caught for the back office."""

from __future__ import annotations

from app.jobs import connected_to
from app.notifications.models import EmailStatus
from tests.integration.notifications.helpers import email, queued_email, send_jobs


async def test_the_worker_catches_queued_mails_when_no_smtp_server_is_configured(session, clean_db):
    email_id = await queued_email(session)

    with connected_to(clean_db) as app:
        async with app.open_async():
            await app.run_worker_async(queues=["email"], wait=False, install_signal_handlers=False)

    row = await email(session, email_id)
    assert (row.status, row.attempts) == (EmailStatus.CAUGHT, 1)
    assert [status for status, _at in await send_jobs(session, email_id)] == ["succeeded"]
