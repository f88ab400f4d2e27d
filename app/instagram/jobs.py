"""The periodic snapshot job: every 10 minutes when a profile source is configured."""

from __future__ import annotations

from app.instagram.profiles import configured_source
from app.instagram.snapshots import record_snapshots
from app.jobs import job_app, job_sessions

INSTAGRAM_QUEUE = "instagram"


@job_app.periodic(cron="*/10 * * * *", periodic_id="instagram-snapshots")
@job_app.task(name="instagram.record_snapshots", queue=INSTAGRAM_QUEUE, queueing_lock="instagram-snapshots")
async def record_snapshots_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    source = configured_source()
    if source is None:
        return "off"
    return f"recorded {await record_snapshots(job_sessions(), source)}"
