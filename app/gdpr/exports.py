"""The client's data export: asked for in the portal, built by a job, downloadable by its owner for a week.

``request_export`` records the request and defers the job in the same transaction; one export at a time is in
the making (a partial unique index, answered as ``ExportPending``). ``build_export`` writes the ZIP into the data
directory, marks the export ready and writes the "export ready" mail. ``expire_exports`` (periodic) deletes the
files whose week is over.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.actors import Actor
from app.config import get_settings
from app.customers.models import Customer
from app.errors import Conflict, NotFound
from app.gdpr.export_data import export_contents, export_zip
from app.gdpr.models import DataExport, ExportStatus
from app.i18n import N_
from app.notifications.messages import send_export_ready
from app.uow import UnitOfWork

BUILD_TASK = "gdpr.build_export"
EXPORT_QUEUE = "default"
KEEP_FOR = timedelta(days=7)
GIVE_UP_AFTER = timedelta(days=1)  # a pending export whose job failed: the client may ask again after this
EXPORT = "data_export"
ALREADY_PREPARING = N_("Your data is already being prepared. You will get an email when it is ready.")


class ExportPending(Conflict):
    code = "export_pending"


def export_dir() -> Path:
    return get_settings().data_dir / "exports"


def export_path(export: DataExport) -> Path | None:
    return None if export.file_name is None else export_dir() / export.file_name


async def request_export(uow: UnitOfWork, *, customer_id: int, actor: Actor) -> DataExport:
    """Record the client's request and defer the job that builds the file (refused while one is in the making)."""
    customer = await uow.session.scalar(
        sa.select(Customer).where(Customer.id == customer_id, Customer.erased_at.is_(None)).with_for_update()
    )
    if customer is None:
        raise NotFound(N_("This record no longer exists."))
    export = DataExport(customer_id=customer_id, status=ExportStatus.PENDING)
    try:
        async with uow.session.begin_nested():
            uow.session.add(export)
            await uow.flush()
    except IntegrityError:
        raise ExportPending(ALREADY_PREPARING) from None
    await uow.defer(BUILD_TASK, {"export_id": export.id}, queue=EXPORT_QUEUE, queueing_lock=f"gdpr-export-{export.id}")
    uow.audit(actor, "export-requested", EXPORT, export.id, details={"customer": customer_id})
    return export


async def build_export(uow: UnitOfWork, *, export_id: int, actor: Actor) -> DataExport | None:
    """Write the export's ZIP, mark it ready for ``KEEP_FOR`` and mail the client the link (None: not pending)."""
    export = await uow.session.scalar(
        sa.select(DataExport).where(DataExport.id == export_id).with_for_update(skip_locked=True)
    )
    if export is None or export.status != ExportStatus.PENDING:
        return None
    customer = await uow.session.get(Customer, export.customer_id)
    if customer is None or customer.erased_at is not None:
        return None
    now = uow.now()
    content = export_zip(await export_contents(uow.session, customer, now))
    file_name = f"{export.id}-{secrets.token_hex(16)}.zip"
    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f"{file_name}.part"
    partial.write_bytes(content)
    partial.replace(directory / file_name)
    export.status, export.file_name, export.size_bytes = ExportStatus.READY, file_name, len(content)
    export.ready_at, export.expires_at = now, now + KEEP_FOR
    await uow.flush()
    await send_export_ready(uow, customer, export_id=export.id, expires_at=export.expires_at)
    uow.audit(actor, "export-ready", EXPORT, export.id, details={"customer": customer.id, "bytes": len(content)})
    return export


def _expire(exports: list[DataExport]) -> None:
    """Delete the exports' files; the rows stay, as ``expired``."""
    for export in exports:
        path = export_path(export)
        if path is not None:
            path.unlink(missing_ok=True)
        export.status, export.file_name = ExportStatus.EXPIRED, None


async def expire_exports(uow: UnitOfWork, *, actor: Actor, now: datetime | None = None) -> int:
    """Delete the files of the exports whose week is over (their rows stay, as ``expired``), and give up exports
    whose job has not finished within ``GIVE_UP_AFTER`` (so the client may ask again); returns how many."""
    moment = now or uow.now()
    over = sa.or_(
        sa.and_(DataExport.status == ExportStatus.READY, DataExport.expires_at <= moment),
        sa.and_(DataExport.status == ExportStatus.PENDING, DataExport.created_at <= moment - GIVE_UP_AFTER),
    )
    exports = list(
        await uow.session.scalars(
            sa.select(DataExport).where(over).order_by(DataExport.id).with_for_update(skip_locked=True)
        )
    )
    _expire(exports)
    for export in exports:
        uow.audit(actor, "export-expired", EXPORT, export.id)
    await uow.flush()
    return len(exports)


async def discard_exports(uow: UnitOfWork, *, customer_id: int) -> int:
    """Erasure: every export of the customer is expired now and its file deleted; returns how many."""
    exports = list(
        await uow.session.scalars(
            sa.select(DataExport)
            .where(DataExport.customer_id == customer_id, DataExport.status != ExportStatus.EXPIRED)
            .order_by(DataExport.id)
            .with_for_update()
        )
    )
    _expire(exports)
    await uow.flush()
    return len(exports)
