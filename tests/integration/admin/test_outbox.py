"""The Outbox in the back office: list, preview of the rendered mail, and Resend (audited, only where it fits)."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditLog
from app.notifications.models import EmailOutbox, EmailStatus
from app.notifications.outbox import notify
from app.uow import UnitOfWork
from tests import factories
from tests.integration.admin.helpers import login_as


async def a_mail(session, status: EmailStatus) -> EmailOutbox:
    await factories.company_settings(session)
    email = await notify(
        UnitOfWork(session),
        to="anna@example.com",
        template="staff_alert",
        context={"summary": "Sandbox <low>", "message": "Sandbox <low>", "topic": "t", "admin_url": "http://x/a"},
    )
    email.status = status
    email.error = "550 5.1.1 No such user here" if status == EmailStatus.FAILED else None
    await session.commit()
    return email


async def test_staff_read_the_outbox_and_preview_a_mail(web, session):
    email = await a_mail(session, EmailStatus.CAUGHT)
    await login_as(session, web, Role.STAFF)

    listing = await web.get("/admin/email-outbox/list")
    assert listing.status_code == 200
    assert "anna@example.com" in listing.text
    assert 'data-state="caught"' in listing.text
    details = await web.get(f"/admin/email-outbox/details/{email.id}")
    assert details.status_code == 200
    assert 'sandbox=""' in details.text
    assert "Sandbox &lt;low&gt;" in details.text  # the text part, escaped into the page
    assert "&lt;p&gt;" in details.text  # the HTML part, escaped into the frame's srcdoc


async def test_finance_has_no_outbox(web, session):
    await login_as(session, web, Role.FINANCE)
    assert (await web.get("/admin/email-outbox/list")).status_code == 403


async def test_staff_resend_a_failed_mail_and_it_is_audited(web, session):
    email = await a_mail(session, EmailStatus.FAILED)
    staff = await login_as(session, web, Role.STAFF)

    done = await web.post(
        f"/admin/email-outbox/action/resend?pks={email.id}", data={"csrf_token": staff.csrf}, follow_redirects=False
    )

    assert done.status_code == 303
    await session.refresh(email)
    assert (email.status, email.error, email.attempts) == (EmailStatus.QUEUED, None, 0)
    audit = await session.scalar(sa.select(AuditLog).where(AuditLog.action == "resend-email"))
    assert audit is not None
    assert audit.entity_id == str(email.id)


async def test_a_queued_mail_cannot_be_resent(web, session):
    email = await a_mail(session, EmailStatus.QUEUED)
    staff = await login_as(session, web, Role.STAFF)

    refused = await web.post(
        f"/admin/email-outbox/action/resend?pks={email.id}", data={"csrf_token": staff.csrf}, follow_redirects=False
    )

    assert refused.status_code != 303
    await session.refresh(email)
    assert email.status == EmailStatus.QUEUED
