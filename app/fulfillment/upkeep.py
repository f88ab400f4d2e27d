"""Periodic upkeep around the providers: balance and service sync, balance holds, stuck lines.

* every 5 minutes: each active provider with an API is synced (``sync_provider``: services, balance); then its
  queued lines are held while its balance is below its threshold, and the lines held for its balance are
  resumed once it is back above (``app.fulfillment.holds``). A provider whose sync failed is left as it was.
* every 10 minutes: lines stuck at their provider are flagged once per stall (event + staff alert).
* every minute: requested refills are sent, sent ones followed (``app.fulfillment.refills``).
* on request: a cancel staff asked for is sent (``app.fulfillment.cancels``), retried while it cannot leave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog
from procrastinate import RetryStrategy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.config import get_settings
from app.fulfillment.cancels import SEND_CANCEL_TASK, send_cancel
from app.fulfillment.holds import flag_stuck_lines, settle_balance_holds
from app.fulfillment.jobs import PROVIDER_TIMEOUTS
from app.fulfillment.queueing import FULFILLMENT_QUEUE
from app.fulfillment.refills import follow_refills, send_refills
from app.jobs import job_app, job_sessions
from app.providers.smm_v2 import NotSent, Timeouts
from app.providers.sync import SyncOutcome, providers_with_api, sync_provider
from app.uow import unit_of_work

log = structlog.get_logger(__name__)

UPKEEP = Actor.worker("provider upkeep")


@dataclass(frozen=True)
class ProviderUpkeep:
    sync: SyncOutcome
    held: int = 0
    resumed: int = 0

    def line(self) -> str:
        return f"{self.sync.line()}; held {self.held}, resumed {self.resumed}"


async def upkeep_providers(
    sessions: async_sessionmaker[AsyncSession], *, timeouts: Timeouts | None = None
) -> list[ProviderUpkeep]:
    """Sync every active provider with an API, then hold or resume its lines for its balance."""
    providers = await providers_with_api(sessions)
    results = []
    for provider in providers:
        outcome = await sync_provider(sessions, provider, actor=UPKEEP, timeouts=timeouts)
        if not outcome.ok:
            log.warning("provider not synced", provider=provider.name, error=outcome.error)
            results.append(ProviderUpkeep(outcome))
            continue
        async with unit_of_work(sessions) as uow:
            held, resumed = await settle_balance_holds(uow, provider_id=provider.id, actor=UPKEEP)
        if held or resumed:
            log.warning("provider balance holds", provider=provider.name, held=len(held), resumed=len(resumed))
        results.append(ProviderUpkeep(outcome, len(held), len(resumed)))
    return results


async def flag_stuck(sessions: async_sessionmaker[AsyncSession], *, stuck_after: timedelta) -> int:
    async with unit_of_work(sessions) as uow:
        return len(await flag_stuck_lines(uow, stuck_after=stuck_after, actor=UPKEEP))


@job_app.periodic(cron="*/5 * * * *", periodic_id="upkeep-providers")
@job_app.task(name="fulfillment.upkeep_providers", queue=FULFILLMENT_QUEUE, queueing_lock="upkeep-providers")
async def upkeep_providers_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    return "\n".join(result.line() for result in await upkeep_providers(job_sessions(), timeouts=PROVIDER_TIMEOUTS))


@job_app.periodic(cron="*/10 * * * *", periodic_id="flag-stuck-lines")
@job_app.task(name="fulfillment.flag_stuck_lines", queue=FULFILLMENT_QUEUE, queueing_lock="flag-stuck-lines")
async def flag_stuck_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    hours = get_settings().stuck_after_hours
    return f"flagged {await flag_stuck(job_sessions(), stuck_after=timedelta(hours=hours))}"


@job_app.periodic(cron="* * * * *", periodic_id="send-refills")
@job_app.task(name="fulfillment.send_refills", queue=FULFILLMENT_QUEUE, queueing_lock="send-refills")
async def send_refills_job(timestamp: int) -> str:  # noqa: ARG001 - periodic signature
    sent = await send_refills(job_sessions(), timeouts=PROVIDER_TIMEOUTS)
    followed = await follow_refills(job_sessions(), timeouts=PROVIDER_TIMEOUTS)
    return f"sent {sent.sent}, refused {sent.refused}, not sent {sent.not_sent}; status changed {followed.changed}"


@job_app.task(
    name=SEND_CANCEL_TASK,
    queue=FULFILLMENT_QUEUE,
    retry=RetryStrategy(max_attempts=8, exponential_wait=5, retry_exceptions={NotSent}),
)
async def send_cancel_job(line_id: int) -> str:
    return await send_cancel(job_sessions(), line_id, timeouts=PROVIDER_TIMEOUTS)
