"""Invoicing jobs: render an issued invoice's PDF and store it, the one write its row accepts (once); in the same
transaction the document is queued for its booking in Lexware Office (when that is configured)."""

from __future__ import annotations

from app.invoicing.numbering import RENDER_QUEUE, RENDER_TASK
from app.invoicing.storage import stored_pdf
from app.jobs import job_app, job_sessions
from app.lexoffice.commands import queue_sync
from app.uow import unit_of_work


@job_app.task(name=RENDER_TASK, queue=RENDER_QUEUE)
async def render_invoice_pdf(invoice_id: int) -> str | None:
    async with unit_of_work(job_sessions()) as uow:
        sha256 = await stored_pdf(uow.session, invoice_id)
        if sha256 is not None:
            await queue_sync(uow, [invoice_id])
    return sha256
