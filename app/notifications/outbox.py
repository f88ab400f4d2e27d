"""Writing mails to the outbox, in the caller's unit of work, with the job that sends each one.

A mail exists exactly when the change that caused it commits: :func:`notify` adds the row and defers its sending
job through ``uow``, so a rolled-back order sends nothing and a committed one always has its mail queued.
Staff alerts (:func:`alert_staff_by_email`) are deduplicated by a unique key per cause and time window
(``INSERT … ON CONFLICT DO NOTHING``), so a flapping provider raises one mail an hour, not hundreds.
The order confirmation is written when the order is placed (the only moment its tracking token exists in clear)
and *held*; paying the order releases it (:func:`release_held`).
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.company.models import CompanySettings
from app.company.services import SINGLETON_ID
from app.config import get_settings
from app.db.row_writes import Companion
from app.i18n import DEFAULT_LOCALE, LOCALES
from app.notifications.models import EmailKind, EmailOutbox, EmailStatus
from app.notifications.rendering import Sender, subject_line
from app.uow import UnitOfWork

SEND_TASK = "notifications.send_email"
EMAIL_QUEUE = "email"
# One alert per topic and record in this window; the next one in the following window.
ALERT_WINDOW = timedelta(hours=1)


def send_lock(email_id: int) -> str:
    return f"send-email-{email_id}"


async def queue_sending(uow: UnitOfWork, email_id: int, *, at: datetime | None = None) -> None:
    """The job that sends one outbox row (at ``at`` or now), committed with ``uow``.

    A row that already has a job waiting keeps that one (its queueing lock skips the second): one statement,
    no savepoint.
    """
    await uow.defer_unless_waiting(
        SEND_TASK, [({"email_id": email_id}, send_lock(email_id))], queue=EMAIL_QUEUE, scheduled_at=at
    )


def _locale(locale: str | None) -> str:
    return locale if locale in LOCALES else DEFAULT_LOCALE


def write_email(
    uow: UnitOfWork,
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    locale: str | None = None,
    kind: EmailKind = EmailKind.CLIENT,
    order_id: int | None = None,
    held: bool = False,
) -> EmailOutbox:
    """The outbox row alone, for state changes that cannot await (the order lifecycle's primitives).

    Its job is deferred by the sweep, within a minute; :func:`notify` defers it at once.
    """
    language = _locale(locale)
    email = EmailOutbox(
        kind=kind,
        to_address=to,
        template=template,
        locale=language,
        subject=subject_line(template, language, context)[:300],
        context=dict(context),
        status=EmailStatus.HELD if held else EmailStatus.QUEUED,
        attempts=0,
        next_attempt_at=None if held else uow.now(),
        order_id=order_id,
    )
    uow.session.add(email)
    return email


async def notify(
    uow: UnitOfWork,
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    locale: str | None = None,
    kind: EmailKind = EmailKind.CLIENT,
    order_id: int | None = None,
    held: bool = False,
) -> EmailOutbox:
    """An outbox row for one mail and, unless ``held``, its sending job, both in ``uow``."""
    email = write_email(
        uow, to=to, template=template, context=context, locale=locale, kind=kind, order_id=order_id, held=held
    )
    await uow.flush()
    if not held:
        await queue_sending(uow, email.id)
    return email


_OUTBOX = EmailOutbox.__table__
_LOCK_PREFIX = send_lock(0).removesuffix("0")


def _release_sql(p: str, released: str) -> tuple[str, str]:
    """The release as two data-modifying statements, parameters prefixed ``p``: the held rows become queued
    (returning their ids), and each gets its sending job from ``released`` (the first's name), skipped (as in
    ``app.jobs.defer_unless_waiting``) when one is waiting already."""
    return (
        f"UPDATE email_outbox SET status = :{p}queued, next_attempt_at = :{p}now, updated_at = :{p}now"
        f" WHERE order_id = :{p}order_id AND template = :{p}template AND status = :{p}held"
        f" AND (CAST(:{p}refund_id AS text) IS NULL OR context->>'refund_id' = CAST(:{p}refund_id AS text))"
        " RETURNING id",
        "INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args)"
        f" SELECT CAST(:{p}queue AS text), CAST(:{p}task AS text), 0, NULL, CAST(:{p}lock_prefix AS text) || id::text,"
        f" jsonb_build_object('email_id', id) FROM {released} ORDER BY id"
        " ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING",
    )


# One round trip for the payment's transaction. Textual, so that it is compiled once.
_RELEASE_HELD = sa.text(
    "WITH released AS ({}), deferred AS ({}) SELECT id FROM released ORDER BY id".format(*_release_sql("", "released"))
).bindparams(
    sa.bindparam("queued", value=EmailStatus.QUEUED, type_=_OUTBOX.c.status.type),
    sa.bindparam("held", value=EmailStatus.HELD, type_=_OUTBOX.c.status.type),
    sa.bindparam("now", type_=_OUTBOX.c.updated_at.type),
    sa.bindparam("refund_id", type_=sa.Integer()),
    sa.bindparam("queue", value=EMAIL_QUEUE),
    sa.bindparam("task", value=SEND_TASK),
    sa.bindparam("lock_prefix", value=_LOCK_PREFIX),
)
_RELEASE_WITH_WRITE = _release_sql("release_", "release")


async def release_held(uow: UnitOfWork, *, order_id: int, template: str, refund_id: int | None = None) -> list[int]:
    """Queue the held mails of an order (e.g. its confirmation, once paid; with ``refund_id``, only the one about
    that refund), each with its sending job; returns their ids."""
    params = {"now": uow.now(), "order_id": order_id, "template": template, "refund_id": refund_id}
    return list(await uow.session.scalars(_RELEASE_HELD, params))


def release_held_with_write(uow: UnitOfWork, *, order_id: int, template: str) -> tuple[Companion, Companion]:
    """:func:`release_held` (every held mail of the template) as companions of a command's write
    (``UnitOfWork.write``): no statement of its own."""
    released, deferred = _RELEASE_WITH_WRITE
    params = {
        "release_queued": str(EmailStatus.QUEUED),
        "release_held": str(EmailStatus.HELD),
        "release_now": uow.now(),
        "release_order_id": order_id,
        "release_template": template,
        "release_refund_id": None,
        "release_queue": EMAIL_QUEUE,
        "release_task": SEND_TASK,
        "release_lock_prefix": _LOCK_PREFIX,
    }
    return Companion("release", released, params), Companion("release_jobs", deferred, {})


def alert_key(topic: str, entity_type: str, entity_id: int | str, at: datetime) -> str:
    window = int(at.timestamp() // ALERT_WINDOW.total_seconds())
    return f"{topic}:{entity_type}:{entity_id}:{window}"


async def staff_address(uow: UnitOfWork) -> str | None:
    """Where alerts go: SMPLAT_STAFF_ALERT_EMAIL, else the company's own address (None: no company data yet)."""
    configured = get_settings().staff_alert_email
    if configured:
        return configured
    company = await uow.session.get(CompanySettings, SINGLETON_ID)
    return company.email if company is not None else None


def record_path(entity_type: str, entity_id: int | str) -> str:
    """The back-office page of the record an alert is about."""
    return f"/admin/{entity_type}/details/{entity_id}"


async def alert_staff_by_email(
    uow: UnitOfWork, *, topic: str, entity_type: str, entity_id: int | str, message: str
) -> int | None:
    """An alert mail to staff, unless one for the same topic and record went out in this window.

    Returns the new row's id, or None when it was a duplicate (or there is nowhere to send it).
    """
    to = await staff_address(uow)
    if to is None:
        return None
    base = get_settings().base_url.rstrip("/")
    context = {
        "summary": message[:200],
        "message": message,
        "topic": topic,
        "admin_url": base + record_path(entity_type, entity_id),
    }
    now = uow.now()
    email_id: int | None = await uow.session.scalar(
        insert(EmailOutbox)
        .values(
            kind=EmailKind.STAFF,
            to_address=to,
            template="staff_alert",
            locale=DEFAULT_LOCALE,
            subject=subject_line("staff_alert", DEFAULT_LOCALE, context)[:300],
            context=context,
            status=EmailStatus.QUEUED,
            attempts=0,
            next_attempt_at=now,
            dedupe_key=alert_key(topic, entity_type, entity_id, now),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=sa.text("dedupe_key IS NOT NULL"))
        .returning(EmailOutbox.id)
    )
    if email_id is not None:
        await queue_sending(uow, email_id)
    return email_id


async def company_sender(session: AsyncSession) -> Sender:
    return sender_of(await session.get(CompanySettings, SINGLETON_ID))


def sender_of(company: CompanySettings | None) -> Sender:
    """The company as the sender: SMPLAT_MAIL_FROM (else its own address), replies to its support address."""
    settings = get_settings()
    name = company.legal_name if company is not None else "SMPLaT"
    support = company.email if company is not None else (settings.mail_from or "")
    address = settings.mail_from or support or f"noreply@{urlsplit(settings.base_url).hostname or 'localhost'}"
    footer = ""
    if company is not None:
        footer = " · ".join(
            part
            for part in (company.legal_name, company.address_line1, f"{company.postal_code} {company.city}", support)
            if part
        )
    return Sender(name=name, address=address, reply_to=support, footer=footer)
