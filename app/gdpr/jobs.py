"""GDPR jobs: build a requested data export, and delete the exports whose week is over."""

from __future__ import annotations

from app.actors import Actor
from app.gdpr.exports import BUILD_TASK, EXPORT_QUEUE, build_export, expire_exports
from app.jobs import job_app, job_sessions
from app.uow import unit_of_work

EXPORTS = Actor.worker("data exports")


@job_app.task(name=BUILD_TASK, queue=EXPORT_QUEUE)
async def build_export_job(export_id: int) -> str:
    async with unit_of_work(job_sessions()) as uow:
        export = await build_export(uow, export_id=export_id, actor=EXPORTS)
    return "not pending" if export is None else f"ready, {export.size_bytes} bytes"


@job_app.periodic(cron="17 * * * *", periodic_id="expire-data-exports")
@job_app.task(name="gdpr.expire_exports", queue=EXPORT_QUEUE, queueing_lock="expire-data-exports")
async def expire_exports_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    async with unit_of_work(job_sessions()) as uow:
        return f"expired {await expire_exports(uow, actor=EXPORTS)}"
