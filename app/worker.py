"""Running the job worker: ``smplat worker``, and in-process for ``smplat demo``."""

from __future__ import annotations

import structlog

from app.jobs import connected_to, dispose_job_engines

log = structlog.get_logger(__name__)

WORKER_CONCURRENCY = 10


async def run_worker(url: str, *, concurrency: int = WORKER_CONCURRENCY, install_signal_handlers: bool = True) -> None:
    """Process jobs until stopped (SIGINT/SIGTERM when handlers are installed, or task cancellation)."""
    with connected_to(url) as app:
        async with app.open_async():
            log.info("worker started", concurrency=concurrency)
            try:
                await app.run_worker_async(
                    concurrency=concurrency,
                    install_signal_handlers=install_signal_handlers,
                    update_heartbeat_interval=10,
                    stalled_worker_timeout=30,
                )
            finally:
                await dispose_job_engines()
    log.info("worker stopped")
