"""Sending outbox rows to a real SMTP server: accepted, refused for now, refused for good, no server, no SMTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from unittest.mock import ANY

import pytest
import sqlalchemy as sa

from app.db.engine import session_factory
from app.notifications.delivery import MAX_ATTEMPTS, Taken, deliver, take_email
from app.notifications.jobs import sweep_outbox
from app.notifications.models import EmailOutbox, EmailStatus
from app.notifications.outbox import notify
from app.notifications.sending import CatchingMailer, SmtpMailer
from app.uow import UnitOfWork, unit_of_work, utc_now
from tests.integration.notifications.conftest import free_port
from tests.integration.notifications.helpers import email, queued_email, send_jobs


async def test_accepted_mail_is_sent_once_with_its_message_id(engine, session, smtp_server):
    email_id = await queued_email(session, to="anna@example.com")

    assert await deliver(session_factory(engine), email_id, smtp_server.mailer()) == EmailStatus.SENT
    assert await deliver(session_factory(engine), email_id, smtp_server.mailer()) == Taken.NOT_DUE

    row = await email(session, email_id)
    assert (row.status, row.attempts, row.error) == (EmailStatus.SENT, 1, None)
    assert row.sent_at is not None
    (received,) = smtp_server.received
    assert received.recipients == ["anna@example.com"]
    assert received.message["Message-ID"] == row.message_id
    assert received.message["Auto-Submitted"] == "auto-generated"


async def test_temporary_refusal_is_queued_again_with_backoff_then_sent(engine, session, smtp_server):
    email_id = await queued_email(session)
    smtp_server.handler.data_replies.append("451 4.3.0 Mailbox busy, try again later")
    await session.execute(sa.text("UPDATE procrastinate_jobs SET status = 'doing'"))  # the worker runs its job
    await session.commit()

    assert await deliver(session_factory(engine), email_id, smtp_server.mailer()) == EmailStatus.QUEUED
    row = await email(session, email_id)
    assert row.attempts == 1
    assert "451 4.3.0 Mailbox busy" in (row.error or "")
    assert row.next_attempt_at is not None
    assert row.next_attempt_at > utc_now() + timedelta(seconds=20)
    assert await send_jobs(session, email_id) == [("doing", ANY), ("todo", row.next_attempt_at)]
    assert await deliver(session_factory(engine), email_id, smtp_server.mailer()) == Taken.NOT_DUE  # not due yet

    row.next_attempt_at = utc_now()
    await session.commit()
    assert await deliver(session_factory(engine), email_id, smtp_server.mailer()) == EmailStatus.SENT
    assert (await email(session, email_id)).attempts == 2
    assert len(smtp_server.received) == 1


async def test_permanent_refusal_fails_with_the_servers_message(engine, session, smtp_server):
    email_id = await queued_email(session, to="nobody@example.com")
    smtp_server.handler.rcpt_replies.append("550 5.1.1 No such user here")

    assert await deliver(session_factory(engine), email_id, smtp_server.mailer()) == EmailStatus.FAILED
    row = await email(session, email_id)
    assert row.error == "550 5.1.1 No such user here"
    assert smtp_server.received == []


async def test_server_down_is_tried_again_later(engine, session):
    email_id = await queued_email(session)
    nobody_listens = SmtpMailer.from_url(f"smtp://127.0.0.1:{free_port()}", timeout=2)

    assert await deliver(session_factory(engine), email_id, nobody_listens) == EmailStatus.QUEUED
    row = await email(session, email_id)
    assert row.attempts == 1
    assert row.next_attempt_at is not None
    assert row.next_attempt_at > utc_now()
    assert "no exchange with the mail server" in (row.error or "")


async def test_out_of_attempts_the_mail_fails(engine, session):
    email_id = await queued_email(session)
    row = await email(session, email_id)
    row.attempts = MAX_ATTEMPTS - 1
    await session.commit()
    nobody_listens = SmtpMailer.from_url(f"smtp://127.0.0.1:{free_port()}", timeout=2)

    assert await deliver(session_factory(engine), email_id, nobody_listens) == EmailStatus.FAILED
    assert (await email(session, email_id)).error.startswith(f"gave up after {MAX_ATTEMPTS} attempts")  # type: ignore[union-attr]


async def test_rolled_back_change_queues_no_mail_and_no_job(engine, session):
    async def failing_change() -> None:
        async with unit_of_work(session_factory(engine)) as uow:
            await notify(
                uow,
                to="a@example.com",
                template="staff_alert",
                context={"summary": "s", "message": "m", "topic": "t", "admin_url": "u"},
            )
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()

    assert await session.scalar(sa.select(sa.func.count()).select_from(EmailOutbox)) == 0
    assert await session.scalar(sa.text("SELECT count(*) FROM procrastinate_jobs")) == 0


async def test_mail_found_sending_becomes_unknown_and_is_not_sent_again(engine, session, smtp_server):
    email_id = await queued_email(session)
    async with unit_of_work(session_factory(engine)) as uow:  # a worker took it, then died mid-exchange
        taken, _ticket = await take_email(uow, email_id)
    assert taken == Taken.SENDING

    assert await deliver(session_factory(engine), email_id, smtp_server.mailer()) == Taken.FOUND_SENDING
    assert await deliver(session_factory(engine), email_id, smtp_server.mailer()) == Taken.NOT_DUE

    row = await email(session, email_id)
    assert row.status == EmailStatus.UNKNOWN
    assert row.message_id is not None  # stored before the exchange: staff can look it up in the server's log
    assert smtp_server.received == []


async def test_two_senders_deliver_a_hundred_mails_each_exactly_once(engine, session, smtp_server):
    ids = [await queued_email(session, to=f"client{n}@example.com") for n in range(100)]
    sessions = session_factory(engine)

    async def sender(order: list[int]) -> None:
        for email_id in order:
            await deliver(sessions, email_id, smtp_server.mailer())

    await asyncio.gather(sender(ids), sender(list(reversed(ids))))

    message_ids = [received.message["Message-ID"] for received in smtp_server.received]
    assert len(message_ids) == 100
    assert len(set(message_ids)) == 100
    statuses = await session.scalars(sa.select(EmailOutbox.status).where(EmailOutbox.id.in_(ids)))
    assert set(statuses) == {EmailStatus.SENT}
    assert sorted(r.recipients[0] for r in smtp_server.received) == sorted(f"client{n}@example.com" for n in range(100))


async def test_without_smtp_the_mail_is_caught_for_the_back_office(engine, session):
    email_id = await queued_email(session)

    assert await deliver(session_factory(engine), email_id, CatchingMailer()) == EmailStatus.CAUGHT
    row = await email(session, email_id)
    assert row.sent_at is not None
    assert row.message_id is not None


async def test_sweep_requeues_due_mails_without_a_job_and_gives_up_on_stale_sending(engine, session):
    orphan_id = await queued_email(session)
    stale_id = await queued_email(session)
    await session.execute(sa.text("DELETE FROM procrastinate_jobs"))
    long_ago = utc_now() - timedelta(hours=1)
    await session.execute(sa.update(EmailOutbox).where(EmailOutbox.id == orphan_id).values(next_attempt_at=long_ago))
    await session.execute(
        sa.update(EmailOutbox).where(EmailOutbox.id == stale_id).values(status=EmailStatus.SENDING, updated_at=long_ago)
    )
    await session.commit()

    assert await sweep_outbox(session_factory(engine)) == (1, 1)
    assert [status for status, _at in await send_jobs(session, orphan_id)] == ["todo"]
    assert (await email(session, stale_id)).status == EmailStatus.UNKNOWN
    assert await sweep_outbox(session_factory(engine)) == (0, 0)  # the job is waiting now


async def test_held_mail_is_not_sent(engine, session, smtp_server):
    held = await notify(
        UnitOfWork(session),
        to="a@example.com",
        template="staff_alert",
        context={"summary": "s", "message": "m", "topic": "t", "admin_url": "u"},
        held=True,
    )
    await session.commit()

    assert await send_jobs(session, held.id) == []
    assert await deliver(session_factory(engine), held.id, smtp_server.mailer()) == Taken.NOT_DUE
    assert smtp_server.received == []
