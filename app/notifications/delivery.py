"""Sending one outbox row: at most once, or visibly unknown — never twice by itself.

Three steps (``deliver`` runs them; tests run them one by one to stop "the worker" between them):

1. :func:`take_email` — unit of work 1: the row locked ``FOR UPDATE SKIP LOCKED``; if it is queued and due, the
   mail is rendered, a Message-ID is generated and stored, and the row is committed as ``sending`` with one more
   attempt counted, before anything leaves.
2. the mailer talks SMTP — no transaction open.
3. :func:`record_outcome` — unit of work 2: ``sent`` (or ``caught`` without SMTP); ``queued`` again with
   exponential backoff and jitter after a temporary failure, ``failed`` once attempts run out; ``failed`` with
   the server's words after a 5xx; ``unknown`` when the exchange broke off after the data was sent.

All three run on one connection holding an advisory lock on the row, so a duplicate job for the same row
leaves it alone instead of finding it ``sending`` mid-exchange.

**Guarantee: at most once per row.** A worker that dies after step 1 leaves the row ``sending`` (and its lock
goes with its connection); whoever finds it there later (the same job rerun after stalled-job recovery, or the
sweep after ten minutes) marks it ``unknown`` and does not send it: the server may have accepted it. Staff see
it in the Outbox and resend it by hand (a new attempt, audited), after checking with the recipient or the mail
server's log (the stored Message-ID identifies it there).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlsplit

import sqlalchemy as sa
import structlog
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import get_settings
from app.invoicing.storage import invoice_pdf_by_id, order_invoice_pdf, refund_credit_note_pdf
from app.notifications.messages import INVOICE_COPY, LINE_REFUND, ORDER_CONFIRMATION
from app.notifications.models import EmailOutbox, EmailStatus
from app.notifications.outbox import company_sender, queue_sending
from app.notifications.rendering import render_email
from app.notifications.sending import (
    Mailer,
    OutcomeUnknown,
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
    build_message,
    new_message_id,
)
from app.uow import UnitOfWork, unit_of_work

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8
# The advisory lock space of "a sender works on this outbox row" (key: the row id).
SENDER_LOCK = 7001
# A temporary failure is tried again after 1, 2, 4 … minutes (at most 2 hours), with jitter.
BACKOFF_BASE_SECONDS = 60.0
BACKOFF_CAP_SECONDS = 2 * 3600.0


class Taken(StrEnum):
    SENDING = "sending"  # committed as sending: send it now
    NOT_DUE = "not_due"  # not queued (sent, failed, held, …) or due later: nothing to do
    BUSY = "busy"  # another worker holds the row right now
    FOUND_SENDING = "found_sending"  # a dead worker left it sending: now unknown, not sent again
    UNRENDERABLE = "unrenderable"  # its template or data is broken: now failed, with the error


@dataclass(frozen=True)
class Ticket:
    email_id: int
    outgoing: Outgoing


def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """How long after its ``attempt``-th temporary failure (1, 2, …) a mail is tried again ("equal jitter")."""
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** min(max(attempt, 1) - 1, 32))
    return timedelta(seconds=delay / 2 + (rng or random).random() * delay / 2)


def _mail_domain(address: str) -> str:
    return address.rpartition("@")[2] or urlsplit(get_settings().base_url).hostname or "localhost"


async def take_email(uow: UnitOfWork, email_id: int) -> tuple[Taken, Ticket | None]:
    email = await uow.session.scalar(
        sa.select(EmailOutbox).where(EmailOutbox.id == email_id).with_for_update(skip_locked=True)
    )
    if email is None:
        exists = await uow.session.scalar(sa.select(sa.literal(1)).where(EmailOutbox.id == email_id))
        return (Taken.BUSY if exists else Taken.NOT_DUE), None
    if email.status == EmailStatus.SENDING:
        email.status = EmailStatus.UNKNOWN
        email.error = "found sending: the previous attempt may have been delivered, so it is not sent again"
        log.warning("email found sending", email_id=email.id, message_id=email.message_id)
        return Taken.FOUND_SENDING, None
    now = uow.now()
    if email.status != EmailStatus.QUEUED or (email.next_attempt_at is not None and email.next_attempt_at > now):
        return Taken.NOT_DUE, None
    sender = await company_sender(uow.session)
    attachment = await _attachment(uow, email)
    context = {**email.context, "attached": attachment[0] if attachment is not None else None}
    try:
        rendered = render_email(email.template, email.locale, context, sender)
    except (KeyError, ValueError, TypeError, TemplateError) as exc:
        email.status, email.error = EmailStatus.FAILED, f"cannot be rendered: {exc!r}"
        log.error("email not rendered", email_id=email.id, template=email.template, error=repr(exc))
        return Taken.UNRENDERABLE, None
    email.message_id = new_message_id(_mail_domain(sender.address))
    email.subject = rendered.subject[:300]
    email.status = EmailStatus.SENDING
    email.attempts += 1
    email.next_attempt_at = None
    outgoing = build_message(
        rendered,
        sender=sender,
        to=email.to_address,
        message_id=email.message_id,
        date=now,
        unsubscribe_url=email.context.get("unsubscribe_url"),
    )
    if attachment is not None:
        number, pdf = attachment
        outgoing.message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{number}.pdf")
    return Taken.SENDING, Ticket(email.id, outgoing)


async def _attachment(uow: UnitOfWork, email: EmailOutbox) -> tuple[str, bytes] | None:
    """The document a mail carries, loaded when it is sent (so a resend carries the same bytes): the invoice on
    the payment's confirmation, the credit note on the mail about a refund, the document staff send again. Its
    number is in the mail's text."""
    if email.template == ORDER_CONFIRMATION and email.order_id is not None:
        return await order_invoice_pdf(uow.session, email.order_id)
    refund_id = email.context.get("refund_id")
    if email.template == LINE_REFUND and isinstance(refund_id, int):
        return await refund_credit_note_pdf(uow.session, refund_id)
    invoice_id = email.context.get("invoice_id")
    if email.template == INVOICE_COPY and isinstance(invoice_id, int):
        return await invoice_pdf_by_id(uow.session, invoice_id)
    return None


async def record_outcome(uow: UnitOfWork, email_id: int, *, caught: bool, problem: Exception | None) -> EmailStatus:
    email = await uow.session.scalar(sa.select(EmailOutbox).where(EmailOutbox.id == email_id).with_for_update())
    if email is None or email.status != EmailStatus.SENDING:
        return email.status if email is not None else EmailStatus.UNKNOWN
    now = uow.now()
    match problem:
        case None:
            email.status = EmailStatus.CAUGHT if caught else EmailStatus.SENT
            email.sent_at, email.error = now, None
        case TemporaryFailure() if email.attempts < MAX_ATTEMPTS:
            email.status, email.error = EmailStatus.QUEUED, str(problem)
            email.next_attempt_at = now + retry_delay(email.attempts)
            await queue_sending(uow, email.id, at=email.next_attempt_at)
        case TemporaryFailure():
            email.status, email.error = EmailStatus.FAILED, f"gave up after {email.attempts} attempts: {problem}"
        case OutcomeUnknown():
            email.status, email.error = EmailStatus.UNKNOWN, str(problem)
        case _:
            email.status, email.error = EmailStatus.FAILED, str(problem)
    return email.status


async def deliver(sessions: async_sessionmaker[AsyncSession], email_id: int, mailer: Mailer) -> Taken | EmailStatus:
    """Send one outbox row if it is due: what ``take_email`` found, or the row's status afterwards.

    The whole attempt runs on one connection that holds an advisory lock for the row: a second sender (a
    duplicate job) finds it held and leaves the row alone, and a row found ``sending`` while the lock is free
    was left by a sender whose connection died, so it really is of unknown fate.
    """
    engine: AsyncEngine = sessions.kw["bind"]
    key = (SENDER_LOCK, email_id % 2**31)
    async with engine.connect() as connection:
        held = await connection.scalar(sa.select(sa.func.pg_try_advisory_lock(*key)))
        await connection.commit()
        if not held:
            return Taken.BUSY
        try:
            on_connection = async_sessionmaker(connection, expire_on_commit=False)
            async with unit_of_work(on_connection) as uow:
                taken, ticket = await take_email(uow, email_id)
            if ticket is None:
                return taken
            problem: Exception | None = None
            try:
                await mailer.send(ticket.outgoing)
            except (TemporaryFailure, PermanentFailure, OutcomeUnknown) as exc:
                problem = exc
            async with unit_of_work(on_connection) as uow:
                status = await record_outcome(uow, email_id, caught=mailer.catches, problem=problem)
        finally:
            await connection.execute(sa.select(sa.func.pg_advisory_unlock(*key)))
            await connection.commit()
    log.info("email delivered" if problem is None else "email not delivered", email_id=email_id, status=str(status))
    return status
