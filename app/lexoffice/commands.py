"""Lexware Office sync commands: queue a document's booking, record each step of it, retry it.

The sync job (``app.lexoffice.sync``) calls the API between these commands, never inside one: each command is a
short unit of work that locks the document's ``lexoffice_sync`` row, checks the move against
``SYNC_TRANSITIONS`` and writes its audit row. The voucher id is committed before the PDF is uploaded, and the
moment a create request may leave is committed before it leaves, so a crash anywhere resumes without booking
twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import undefer

from app.actors import Actor
from app.config import get_settings
from app.errors import Conflict, NotFound
from app.fulfillment.alerts import AlertTopic, alert_staff
from app.i18n import N_
from app.invoicing.models import Invoice
from app.jobs import no_live_job
from app.lexoffice.models import SYNC_TRANSITIONS, LexofficeSync, SyncStatus
from app.lexoffice.vouchers import pdf_filename, voucher_of
from app.states import check_transition
from app.uow import UnitOfWork

SYNC_TASK = "lexoffice.sync_invoice"
SYNC_QUEUE = "lexoffice"
SYNC_LOCK_PREFIX = "lexoffice-sync:"
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Attempt:
    """What one sync attempt sends, read in the unit of work that started it."""

    invoice_id: int
    number: str
    voucher: dict[str, Any]
    filename: str
    pdf: bytes
    voucher_id: str | None  # known: only the upload is left
    create_may_have_reached: bool  # an earlier create got no answer: look the voucher up first


def sync_configured() -> bool:
    return bool(get_settings().lexoffice_api_key)


async def defer_syncs(uow: UnitOfWork, invoice_ids: Sequence[int]) -> list[int]:
    jobs = [({"invoice_id": invoice_id}, f"{SYNC_LOCK_PREFIX}{invoice_id}") for invoice_id in invoice_ids]
    return await uow.defer_unless_waiting(SYNC_TASK, jobs, queue=SYNC_QUEUE)


async def queue_sync(uow: UnitOfWork, invoice_ids: Sequence[int]) -> None:
    """Rendered documents get their sync row (pending) and job in this unit of work; nothing when Lexware Office
    is not configured (the sweep picks them up once it is)."""
    if not sync_configured() or not invoice_ids:
        return
    now = uow.now()
    await uow.session.execute(
        insert(LexofficeSync)
        .values(
            [{"invoice_id": invoice_id, "status": SyncStatus.PENDING, "updated_at": now} for invoice_id in invoice_ids]
        )
        .on_conflict_do_nothing(index_elements=["invoice_id"])
    )
    await defer_syncs(uow, invoice_ids)


async def _locked(uow: UnitOfWork, invoice_id: int) -> LexofficeSync | None:
    sync: LexofficeSync | None = await uow.session.scalar(
        sa.select(LexofficeSync)
        .where(LexofficeSync.invoice_id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return sync


def _move(sync: LexofficeSync, target: SyncStatus, now: datetime) -> None:
    check_transition(N_("Lexware Office sync"), SYNC_TRANSITIONS, sync.status, target)
    sync.status, sync.updated_at = target, now


async def begin_attempt(uow: UnitOfWork, invoice_id: int, actor: Actor) -> Attempt | None:
    """Start an attempt on a document not yet synced; None when there is nothing to do.

    Without a voucher id the create may leave in this attempt: that moment is recorded (and committed with this
    unit of work) first, so any later attempt looks the voucher up before it creates one.
    """
    sync = await _locked(uow, invoice_id)
    if sync is None or sync.status == SyncStatus.SYNCED:
        return None
    invoice = await uow.session.scalar(sa.select(Invoice).where(Invoice.id == invoice_id).options(undefer(Invoice.pdf)))
    if invoice is None or invoice.pdf is None:
        return None
    now = uow.now()
    if sync.status == SyncStatus.FAILED:
        _move(sync, SyncStatus.PENDING if sync.voucher_id is None else SyncStatus.VOUCHER_CREATED, now)
        uow.audit(actor, "lexoffice-sync-resumed", "invoice", invoice_id, details={"after": sync.last_error})
    in_doubt = sync.create_sent_at is not None
    if sync.voucher_id is None:
        sync.create_sent_at = now
    sync.attempts += 1
    sync.next_attempt_at = None
    await uow.flush()
    return Attempt(
        invoice_id=invoice.id,
        number=invoice.number,
        voucher=voucher_of(invoice),
        filename=pdf_filename(invoice),
        pdf=invoice.pdf,
        voucher_id=sync.voucher_id,
        create_may_have_reached=in_doubt,
    )


async def record_voucher(uow: UnitOfWork, invoice_id: int, voucher_id: str, actor: Actor) -> None:
    sync = await _locked(uow, invoice_id)
    if sync is None:
        raise NotFound(N_("No Lexware Office sync for invoice %(id)s"), id=invoice_id)
    _move(sync, SyncStatus.VOUCHER_CREATED, uow.now())
    sync.voucher_id = voucher_id
    uow.audit(actor, "lexoffice-voucher-created", "invoice", invoice_id, details={"voucher": voucher_id})
    await uow.flush()


async def record_synced(uow: UnitOfWork, invoice_id: int, actor: Actor) -> None:
    sync = await _locked(uow, invoice_id)
    if sync is None:
        raise NotFound(N_("No Lexware Office sync for invoice %(id)s"), id=invoice_id)
    now = uow.now()
    _move(sync, SyncStatus.SYNCED, now)
    sync.file_uploaded, sync.synced_at, sync.last_error, sync.next_attempt_at = True, now, None, None
    uow.audit(actor, "lexoffice-synced", "invoice", invoice_id, details={"voucher": sync.voucher_id})
    await uow.flush()


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** min(attempts, 10)), MAX_BACKOFF)


async def record_failure(uow: UnitOfWork, invoice_id: int, actor: Actor, *, reason: str, retryable: bool) -> None:
    """The attempt failed: the reason for finance, the next try (None: only by hand) and a staff alert."""
    sync = await _locked(uow, invoice_id)
    if sync is None or sync.status == SyncStatus.SYNCED:
        return
    now = uow.now()
    if sync.status != SyncStatus.FAILED:
        _move(sync, SyncStatus.FAILED, now)
    sync.last_error = reason
    sync.next_attempt_at = now + backoff(sync.attempts) if retryable else None
    number = await uow.session.scalar(sa.select(Invoice.number).where(Invoice.id == invoice_id))
    await alert_staff(
        uow,
        actor,
        AlertTopic.LEXOFFICE_SYNC_FAILED,
        "invoice",
        invoice_id,
        message=f"Lexware Office sync of {number} failed: {reason}",
        details={"retry_at": sync.next_attempt_at},
    )
    await uow.flush()


async def retry_sync(uow: UnitOfWork, invoice_ids: Sequence[int], actor: Actor) -> list[str]:
    """Finance asks for another attempt now (after fixing what Lexware Office refused); the numbers queued."""
    if not sync_configured():
        raise Conflict(N_("Lexware Office is not configured (SMPLAT_LEXOFFICE_API_KEY)."))
    invoices = list(
        await uow.session.scalars(sa.select(Invoice).where(Invoice.id.in_(invoice_ids)).order_by(Invoice.id))
    )
    if len(invoices) != len(set(invoice_ids)):
        raise NotFound(N_("Some of the selected invoices no longer exist."))
    now = uow.now()
    for invoice in invoices:
        if invoice.pdf_sha256 is None:
            raise Conflict(N_("Invoice %(number)s has no PDF yet."), number=invoice.number)
        sync = await _locked(uow, invoice.id)
        if sync is None:
            sync = LexofficeSync(invoice_id=invoice.id, status=SyncStatus.PENDING, attempts=0, updated_at=now)
            uow.session.add(sync)
        elif sync.status == SyncStatus.SYNCED:
            raise Conflict(N_("Invoice %(number)s is already booked in Lexware Office."), number=invoice.number)
        elif sync.status == SyncStatus.FAILED:
            _move(sync, SyncStatus.PENDING if sync.voucher_id is None else SyncStatus.VOUCHER_CREATED, now)
        sync.next_attempt_at = None
        uow.audit(actor, "retry-lexoffice-sync", "invoice", invoice.id, details={"number": invoice.number})
    await uow.flush()
    await defer_syncs(uow, [invoice.id for invoice in invoices])
    return [invoice.number for invoice in invoices]


async def sweep_due(uow: UnitOfWork, *, limit: int = 100) -> list[int]:
    """Rendered documents that need a sync job and have none: never queued (e.g. configured since), pending or
    half-done with their job lost, or failed and due again. Returns their ids."""
    if not sync_configured():
        return []
    due = sa.or_(
        LexofficeSync.id.is_(None),
        LexofficeSync.status.in_([SyncStatus.PENDING, SyncStatus.VOUCHER_CREATED]),
        sa.and_(LexofficeSync.status == SyncStatus.FAILED, LexofficeSync.next_attempt_at <= uow.now()),
    )
    invoice_ids = list(
        await uow.session.scalars(
            sa.select(Invoice.id)
            .outerjoin(LexofficeSync, LexofficeSync.invoice_id == Invoice.id)
            .where(Invoice.pdf_sha256.is_not(None), due, no_live_job(SYNC_LOCK_PREFIX, "invoice.id"))
            .order_by(Invoice.id)
            .limit(limit)
        )
    )
    await queue_sync(uow, invoice_ids)
    return invoice_ids
