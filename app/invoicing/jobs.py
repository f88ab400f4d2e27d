"""Invoicing jobs: render an issued invoice's PDF and store it, the one write its row accepts (once)."""

from __future__ import annotations

from app.invoicing.commands import RENDER_QUEUE, RENDER_TASK
from app.invoicing.storage import store_pdf
from app.jobs import job_app, job_sessions


@job_app.task(name=RENDER_TASK, queue=RENDER_QUEUE)
async def render_invoice_pdf(invoice_id: int) -> str | None:
    return await store_pdf(job_sessions(), invoice_id)
