"""Booking issued documents in Lexware Office: one voucher per document, its PDF attached, whatever fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditLog
from app.invoicing.jobs import render_invoice_pdf
from app.jobs import connected_to
from app.lexoffice import vouchers
from app.lexoffice.client import LexofficeClient
from app.lexoffice.commands import SYNC_TASK, sweep_due
from app.lexoffice.models import LexofficeSync, SyncStatus
from app.lexoffice.sync import Outcome, sync_document
from app.notifications.models import EmailOutbox
from app.sandbox.lexoffice import LexofficeFault, LexofficeFaultRule, SandboxLexoffice
from app.uow import unit_of_work
from tests.integration.invoicing.helpers import invoices_of
from tests.integration.invoicing.test_credit_notes import paid_order, refunded
from tests.integration.lexoffice.helpers import paid_invoice, rendered, sync_row

pytestmark = pytest.mark.usefixtures("configured")


def endpoints(sandbox: SandboxLexoffice) -> list[str]:
    return [request.endpoint for request in sandbox.requests]


async def sync_jobs(session: AsyncSession) -> list[dict[str, int]]:
    rows = await session.scalars(
        sa.text("SELECT args FROM procrastinate_jobs WHERE task_name = :task ORDER BY id"), {"task": SYNC_TASK}
    )
    return list(rows.all())


async def test_rendering_the_pdf_queues_the_sync_in_the_same_transaction(session: AsyncSession, clean_db: str):
    invoice = await paid_invoice(session)

    with connected_to(clean_db):
        await render_invoice_pdf(invoice.id)

    sync = await sync_row(session, invoice.id)
    assert sync is not None
    assert sync.status == SyncStatus.PENDING
    assert await sync_jobs(session) == [{"invoice_id": invoice.id}]


async def test_a_synced_invoice_is_one_voucher_with_its_amounts_and_its_pdf(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: SandboxLexoffice,
    lexoffice: LexofficeClient,
):
    invoice = await rendered(sessions, await paid_invoice(session))
    async with unit_of_work(sessions) as uow:
        await sweep_due(uow)

    assert await sync_document(sessions, lexoffice, invoice.id) == Outcome.SYNCED

    (voucher,) = sandbox.vouchers
    assert voucher.payload["type"] == "salesinvoice"
    assert voucher.payload["voucherNumber"] == invoice.number
    assert (voucher.payload["totalGrossAmount"], voucher.payload["totalTaxAmount"]) == (
        Decimal("11.90"),
        Decimal("1.90"),
    )
    assert voucher.payload["voucherItems"] == [
        {
            "amount": Decimal("10.00"),
            "taxAmount": Decimal("1.90"),
            "taxRatePercent": Decimal("19.00"),
            "categoryId": vouchers.REVENUE_CATEGORY_ID,
        }
    ]
    assert len(voucher.files) == 1
    sync = await sync_row(session, invoice.id)
    assert sync is not None
    assert (sync.status, sync.voucher_id, sync.file_uploaded) == (SyncStatus.SYNCED, voucher.id, True)


async def test_running_the_sync_twice_books_one_voucher(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: SandboxLexoffice,
    lexoffice: LexofficeClient,
):
    invoice = await rendered(sessions, await paid_invoice(session))
    async with unit_of_work(sessions) as uow:
        await sweep_due(uow)

    first = await sync_document(sessions, lexoffice, invoice.id)
    second = await sync_document(sessions, lexoffice, invoice.id)

    assert (first, second) == (Outcome.SYNCED, Outcome.NOTHING_TO_DO)
    assert len(sandbox.vouchers) == 1
    assert endpoints(sandbox) == ["create", "upload"]


async def test_a_create_answered_504_is_looked_up_next_time_and_never_booked_twice(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: SandboxLexoffice,
    lexoffice: LexofficeClient,
):
    invoice = await rendered(sessions, await paid_invoice(session))
    async with unit_of_work(sessions) as uow:
        await sweep_due(uow)
    sandbox.set_faults([LexofficeFaultRule(LexofficeFault.GATEWAY_TIMEOUT_AFTER_CREATE, "create", times=1)])

    assert await sync_document(sessions, lexoffice, invoice.id) == Outcome.FAILED
    failed = await sync_row(session, invoice.id)
    assert failed is not None
    assert failed.status == SyncStatus.FAILED
    assert failed.next_attempt_at is not None  # the sweep tries again by itself
    assert await sync_document(sessions, lexoffice, invoice.id) == Outcome.SYNCED

    assert len(sandbox.vouchers) == 1
    assert endpoints(sandbox) == ["create", "lookup", "upload"]
    synced = await sync_row(session, invoice.id)
    assert synced is not None
    assert (synced.status, synced.voucher_id) == (SyncStatus.SYNCED, sandbox.vouchers[0].id)


async def test_a_crash_between_voucher_and_upload_resumes_with_the_recorded_voucher(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: SandboxLexoffice,
    lexoffice: LexofficeClient,
):
    invoice = await rendered(sessions, await paid_invoice(session))
    async with unit_of_work(sessions) as uow:
        await sweep_due(uow)
    sandbox.set_faults([LexofficeFaultRule(LexofficeFault.UNAVAILABLE, "upload", times=None)])

    assert await sync_document(sessions, lexoffice, invoice.id) == Outcome.FAILED
    half_done = await sync_row(session, invoice.id)
    assert half_done is not None
    assert (half_done.status, half_done.voucher_id) == (SyncStatus.FAILED, sandbox.vouchers[0].id)
    assert "HTTP 503" in (half_done.last_error or "")

    sandbox.set_faults([])
    assert await sync_document(sessions, lexoffice, invoice.id) == Outcome.SYNCED

    assert len(sandbox.vouchers) == 1
    assert len(sandbox.vouchers[0].files) == 1
    assert endpoints(sandbox).count("create") == 1


async def test_a_refused_voucher_fails_with_the_reason_alerts_staff_once_and_waits_for_finance(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: SandboxLexoffice,
    lexoffice: LexofficeClient,
    monkeypatch: pytest.MonkeyPatch,
):
    invoice = await rendered(sessions, await paid_invoice(session))
    async with unit_of_work(sessions) as uow:
        await sweep_due(uow)
    monkeypatch.setattr(vouchers, "REVENUE_CATEGORY_ID", "")

    outcomes = [await sync_document(sessions, lexoffice, invoice.id) for _ in range(2)]

    assert outcomes == [Outcome.FAILED, Outcome.FAILED]
    sync = await sync_row(session, invoice.id)
    assert sync is not None
    assert sync.status == SyncStatus.FAILED
    assert sync.last_error == "HTTP 406: voucherItems[0].categoryId: missing_entity"
    assert sync.next_attempt_at is None  # sending it again changes nothing: only "Retry sync" does
    assert sandbox.vouchers == []
    alerts = await session.scalars(
        sa.select(AuditLog).where(
            AuditLog.action == "alert:lexoffice-sync-failed", AuditLog.entity_id == str(invoice.id)
        )
    )
    assert len(alerts.all()) == 2
    mails = await session.scalars(sa.select(EmailOutbox).where(EmailOutbox.template == "staff_alert"))
    assert [f"/admin/invoice/details/{invoice.id}" in mail.context["admin_url"] for mail in mails] == [True]


async def test_a_credit_note_is_booked_as_a_sales_credit_note_with_positive_amounts(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: SandboxLexoffice,
    lexoffice: LexofficeClient,
):
    order = await paid_order(session)
    await refunded(session, order, "2.98", key="one", line_id=order.lines[0].id)
    await session.commit()
    for document in await invoices_of(session, order.id):
        await rendered(sessions, document)
    async with unit_of_work(sessions) as uow:
        queued = await sweep_due(uow)

    for invoice_id in queued:
        assert await sync_document(sessions, lexoffice, invoice_id) == Outcome.SYNCED

    credit = next(voucher for voucher in sandbox.vouchers if voucher.payload["type"] == "salescreditnote")
    assert credit.payload["voucherNumber"].startswith("GS-")
    assert (credit.payload["totalGrossAmount"], credit.payload["totalTaxAmount"]) == (Decimal("2.98"), Decimal("0.48"))
    assert len(sandbox.vouchers) == 2


async def test_the_sweep_queues_a_rendered_document_never_queued_and_not_again_while_its_job_waits(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
):
    invoice = await rendered(sessions, await paid_invoice(session))

    async with unit_of_work(sessions) as uow:
        first = await sweep_due(uow)
    async with unit_of_work(sessions) as uow:
        second = await sweep_due(uow)

    assert (first, second) == ([invoice.id], [])
    assert await sync_jobs(session) == [{"invoice_id": invoice.id}]


async def test_the_sweep_retries_a_failed_sync_when_due_but_leaves_a_refused_one_to_finance(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
):
    due = await rendered(sessions, await paid_invoice(session))
    refused = await rendered(sessions, await paid_invoice(session))
    past = datetime.now(UTC) - timedelta(minutes=1)
    session.add_all(
        [
            LexofficeSync(invoice_id=due.id, status=SyncStatus.FAILED, last_error="HTTP 503", next_attempt_at=past),
            LexofficeSync(invoice_id=refused.id, status=SyncStatus.FAILED, last_error="HTTP 406: …"),
        ]
    )
    await session.commit()

    async with unit_of_work(sessions) as uow:
        queued = await sweep_due(uow)

    assert queued == [due.id]
