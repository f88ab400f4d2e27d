"""The periodic snapshot job: every 10 minutes when a profile source is configured; never two runs at once (the
hour's call budget is counted across runs)."""

from __future__ import annotations

from app.config import get_settings
from app.instagram.graph_api import configured_source
from app.instagram.snapshots import record_snapshots
from app.jobs import job_app, job_sessions

INSTAGRAM_QUEUE = "instagram"
INSTAGRAM_LOCK = "instagram-snapshots"


@job_app.periodic(cron="*/10 * * * *", periodic_id="instagram-snapshots")
@job_app.task(
    name="instagram.record_snapshots", queue=INSTAGRAM_QUEUE, queueing_lock=INSTAGRAM_LOCK, lock=INSTAGRAM_LOCK
)
async def record_snapshots_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    source = configured_source()
    if source is None:
        return "off"
    async with source:
        return (await record_snapshots(job_sessions(), source, get_settings())).summary()
