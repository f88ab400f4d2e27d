"""Lexware Office jobs: sync one document (deferred when its PDF is stored), and a sweep every minute for
documents whose sync is due again or never got a job. Both do nothing unless SMPLAT_LEXOFFICE_API_KEY is set."""

from __future__ import annotations

from app.config import get_settings
from app.jobs import job_app, job_sessions
from app.lexoffice.client import LexofficeClient
from app.lexoffice.commands import SYNC_QUEUE, SYNC_TASK, sweep_due
from app.lexoffice.sync import sync_document
from app.uow import unit_of_work


@job_app.task(name=SYNC_TASK, queue=SYNC_QUEUE)
async def sync_invoice_job(invoice_id: int) -> str:
    settings = get_settings()
    if not settings.lexoffice_api_key:
        return "not configured"
    async with LexofficeClient(settings.lexoffice_base_url, settings.lexoffice_api_key) as client:
        return str(await sync_document(job_sessions(), client, invoice_id))


@job_app.periodic(cron="* * * * *", periodic_id="sweep-lexoffice")
@job_app.task(name="lexoffice.sweep", queue=SYNC_QUEUE, queueing_lock="sweep-lexoffice")
async def sweep_lexoffice_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    async with unit_of_work(job_sessions()) as uow:
        queued = await sweep_due(uow)
    return f"queued {len(queued)}"
