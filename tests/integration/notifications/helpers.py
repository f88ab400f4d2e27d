"""Outbox rows and their jobs, as tests set them up and look at them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.models import EmailOutbox
from app.notifications.outbox import SEND_TASK, notify
from app.uow import UnitOfWork


async def queued_email(session: AsyncSession, to: str = "client@example.com", number: str = "SMP-2026-000001") -> int:
    """A committed staff-alert-shaped mail, queued with its sending job (the smallest template to render)."""
    email = await notify(
        UnitOfWork(session),
        to=to,
        template="staff_alert",
        context={"summary": number, "message": f"about {number}", "topic": "test", "admin_url": "http://x/admin"},
    )
    await session.commit()
    return email.id


async def email(session: AsyncSession, email_id: int) -> EmailOutbox:
    row = await session.scalar(
        sa.select(EmailOutbox).where(EmailOutbox.id == email_id).execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def send_jobs(session: AsyncSession, email_id: int) -> list[tuple[str, object]]:
    """(status, scheduled_at) of every sending job for the mail."""
    rows = await session.execute(
        sa.text(
            "SELECT status::text, scheduled_at FROM procrastinate_jobs WHERE task_name = :task "
            "AND (args->>'email_id')::bigint = :id ORDER BY id"
        ),
        {"task": SEND_TASK, "id": email_id},
    )
    return [(row[0], row[1]) for row in rows]
