"""One sync attempt of one document: voucher (created, or found by our number), then its PDF.

Only one attempt per document runs at a time (a PostgreSQL advisory lock held on a connection of its own for
the attempt): two workers never both create. Every API call happens between the commands' units of work, none
inside one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import StrEnum

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.lexoffice import commands
from app.lexoffice.client import LexofficeClient, LexofficeError
from app.uow import unit_of_work

log = structlog.get_logger(__name__)

SYNC_ACTOR = Actor.worker("lexoffice sync")
ADVISORY_NAMESPACE = 0x1E0FF1CE  # our key space for pg_try_advisory_lock(namespace, invoice id)


class Outcome(StrEnum):
    SYNCED = "synced"
    FAILED = "failed"
    NOTHING_TO_DO = "nothing to do"
    BUSY = "busy"  # another attempt on it is running


@asynccontextmanager
async def _exclusive(sessions: async_sessionmaker[AsyncSession], invoice_id: int) -> AsyncIterator[bool]:
    async with sessions() as session:
        key = {"namespace": ADVISORY_NAMESPACE, "id": invoice_id}
        held = bool(await session.scalar(sa.text("SELECT pg_try_advisory_lock(:namespace, :id)"), key))
        await session.commit()
        try:
            yield held
        finally:
            if held:
                await session.scalar(sa.text("SELECT pg_advisory_unlock(:namespace, :id)"), key)
                await session.commit()


async def sync_document(
    sessions: async_sessionmaker[AsyncSession], client: LexofficeClient, invoice_id: int
) -> Outcome:
    async with _exclusive(sessions, invoice_id) as held:
        if not held:
            return Outcome.BUSY
        try:
            return await _attempt(sessions, client, invoice_id)
        except LexofficeError as exc:
            log.warning("lexoffice sync failed", invoice_id=invoice_id, reason=exc.reason, retryable=exc.retryable)
            async with unit_of_work(sessions) as uow:
                await commands.record_failure(uow, invoice_id, SYNC_ACTOR, reason=exc.reason, retryable=exc.retryable)
            return Outcome.FAILED


async def _attempt(sessions: async_sessionmaker[AsyncSession], client: LexofficeClient, invoice_id: int) -> Outcome:
    async with unit_of_work(sessions) as uow:
        attempt = await commands.begin_attempt(uow, invoice_id, SYNC_ACTOR)
    if attempt is None:
        return Outcome.NOTHING_TO_DO
    voucher_id = attempt.voucher_id
    if voucher_id is None:
        found = await client.find_voucher(attempt.number) if attempt.create_may_have_reached else None
        voucher_id = found or await client.create_voucher(attempt.voucher)
        async with unit_of_work(sessions) as uow:
            await commands.record_voucher(uow, invoice_id, voucher_id, SYNC_ACTOR)
        log.info("lexoffice voucher recorded", number=attempt.number, voucher_id=voucher_id, found=found is not None)
        needs_upload = True
    else:  # resuming: an earlier upload may have arrived though its answer did not
        needs_upload = not await client.voucher_files(voucher_id)
    if needs_upload:
        await client.upload_file(voucher_id, attempt.filename, attempt.pdf)
    async with unit_of_work(sessions) as uow:
        await commands.record_synced(uow, invoice_id, SYNC_ACTOR)
    return Outcome.SYNCED
