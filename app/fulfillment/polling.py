"""Asking providers how their orders are doing: due lines, ``status`` for 100 ids per request, per provider.

Lines at a provider (dispatched, in progress) carry ``next_poll_at``; a periodic job polls the due ones. Each
provider is asked outside any transaction; the answers are recorded with ``record_progress`` (one savepoint per
line, so one odd answer does not hold back the others). The wait until the next poll grows as the order ages
(``poll_interval``). A line that finished frees its link: lines queued behind it are dispatched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.errors import DomainError
from app.fulfillment.commands import UpstreamProgress, record_progress
from app.fulfillment.models import Provider, ProviderKind
from app.fulfillment.queueing import queue_dispatch
from app.orders.lifecycle import lock_lines
from app.orders.models import Order, OrderLine
from app.orders.states import FINAL_LINE_STATES, LineStatus
from app.providers.clients import client_for
from app.providers.smm_v2 import MAX_IDS_PER_CALL, ItemError, OrderStatus, SmmV2Error, Timeouts, UpstreamOrderStatus
from app.uow import UnitOfWork, unit_of_work, utc_now

log = structlog.get_logger(__name__)

POLLER = Actor.worker("status polling")
POLLED_STATES = (LineStatus.DISPATCHED, LineStatus.IN_PROGRESS)
MAX_LINES_PER_RUN = 5000
# The provider did not answer (or not for this id): ask again after this long.
RETRY_UNANSWERED = timedelta(minutes=1)
RETRY_UNKNOWN_ID = timedelta(hours=1)

UPSTREAM_STATES = {
    UpstreamOrderStatus.PENDING: LineStatus.DISPATCHED,
    UpstreamOrderStatus.IN_PROGRESS: LineStatus.IN_PROGRESS,
    UpstreamOrderStatus.PROCESSING: LineStatus.IN_PROGRESS,
    UpstreamOrderStatus.COMPLETED: LineStatus.COMPLETED,
    UpstreamOrderStatus.PARTIAL: LineStatus.PARTIAL,
    UpstreamOrderStatus.CANCELED: LineStatus.CANCELED,
}


def progress_of(status: OrderStatus) -> UpstreamProgress:
    return UpstreamProgress(
        UPSTREAM_STATES[status.status], status.start_count, status.remains, status.charge, raw=status.raw or None
    )


@dataclass
class PollReport:
    asked: int = 0
    changed: int = 0
    finished: int = 0
    unanswered: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Due:
    line_id: int
    order_id: int
    provider_order_id: str
    status: LineStatus


async def due_lines(session: AsyncSession, now: datetime, limit: int) -> dict[int, list[_Due]]:
    """Lines to ask about now, by provider."""
    rows = await session.execute(
        sa.select(
            OrderLine.id,
            OrderLine.order_id,
            OrderLine.provider_id,
            OrderLine.provider_order_id,
            OrderLine.fulfillment_status,
        )
        .join(Provider, Provider.id == OrderLine.provider_id)
        .where(
            OrderLine.next_poll_at <= now,
            OrderLine.fulfillment_status.in_(POLLED_STATES),
            OrderLine.provider_order_id.is_not(None),
            Provider.kind != ProviderKind.MANUAL,
        )
        .order_by(OrderLine.next_poll_at)
        .limit(limit)
    )
    by_provider: dict[int, list[_Due]] = defaultdict(list)
    for line_id, order_id, provider_id, upstream_id, status in rows:
        by_provider[provider_id].append(_Due(line_id, order_id, upstream_id, status))
    return by_provider


async def _postpone(sessions: async_sessionmaker[AsyncSession], line_ids: list[int], wait: timedelta) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            sa.update(OrderLine).where(OrderLine.id.in_(line_ids)).values(next_poll_at=utc_now() + wait)
        )


async def poll_due_lines(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime | None = None,
    timeouts: Timeouts | None = None,
    limit: int = MAX_LINES_PER_RUN,
) -> PollReport:
    """Ask each provider about its due lines and record the answers."""
    report = PollReport()
    async with sessions() as session:
        due = await due_lines(session, now or utc_now(), limit)
        providers = {p.id: p for p in await session.scalars(sa.select(Provider).where(Provider.id.in_(due)))}
    for provider_id, lines in due.items():
        for start in range(0, len(lines), MAX_IDS_PER_CALL):
            await _poll_batch(
                sessions, providers[provider_id], lines[start : start + MAX_IDS_PER_CALL], report, timeouts
            )
    return report


async def _poll_batch(
    sessions: async_sessionmaker[AsyncSession],
    provider: Provider,
    batch: list[_Due],
    report: PollReport,
    timeouts: Timeouts | None,
) -> None:
    report.asked += len(batch)
    try:
        async with sessions() as session:
            client = await client_for(session, provider, timeouts=timeouts)
        if client is None:
            return
        async with client:
            answers = await client.multi_status([due.provider_order_id for due in batch])
    except (SmmV2Error, DomainError) as exc:
        report.unanswered += len(batch)
        report.errors.append(f"{provider.name}: {exc}")
        log.warning("status poll failed", provider=provider.name, error=str(exc))
        await _postpone(sessions, [due.line_id for due in batch], RETRY_UNANSWERED)
        return
    unknown_ids: list[int] = []
    freed: list[int] = []
    answered: list[tuple[_Due, OrderStatus]] = []
    for due in sorted(batch, key=lambda d: (d.order_id, d.line_id)):
        answer = answers.get(due.provider_order_id)
        if isinstance(answer, OrderStatus):
            answered.append((due, answer))
            continue
        unknown_ids.append(due.line_id)
        if isinstance(answer, ItemError):
            report.errors.append(f"{provider.name} order {due.provider_order_id}: {answer.message}")
    errors_before = len(report.errors)
    if answered:
        async with unit_of_work(sessions) as uow:
            # The whole batch locked at once, in the house order (orders, then lines, by ascending id).
            locked = {line.id: (order, line) for order, line in await lock_lines(uow, [d.line_id for d, _ in answered])}
            for due, answer in answered:
                # After a refused answer (its savepoint rolled back) the batch's loaded rows are stale: lock anew.
                pre_locked = locked.get(due.line_id) if len(report.errors) == errors_before else None
                await _record(uow, due, answer, report, freed, pre_locked)
    if unknown_ids:
        report.unanswered += len(unknown_ids)
        await _postpone(sessions, unknown_ids, RETRY_UNKNOWN_ID)
    if freed:
        await _dispatch_waiting(sessions, freed)


async def _record(
    uow: UnitOfWork,
    due: _Due,
    answer: OrderStatus,
    report: PollReport,
    freed: list[int],
    locked: tuple[Order, OrderLine] | None,
) -> None:
    try:
        async with uow.session.begin_nested():
            line = await record_progress(
                uow, line_id=due.line_id, actor=POLLER, progress=progress_of(answer), locked=locked
            )
    except DomainError as exc:
        report.errors.append(f"line {due.line_id}: {exc.message}")
        log.warning("status answer not recorded", line_id=due.line_id, error=exc.message)
        return
    if line.fulfillment_status != due.status:
        report.changed += 1
    if line.fulfillment_status in FINAL_LINE_STATES and due.status not in FINAL_LINE_STATES:
        report.finished += 1
        freed.append(line.id)


async def _dispatch_waiting(sessions: async_sessionmaker[AsyncSession], finished_line_ids: list[int]) -> None:
    """Lines queued behind a finished one (same link and provider service) are sent now."""
    finished = sa.orm.aliased(OrderLine)
    async with unit_of_work(sessions) as uow:
        waiting = await uow.session.scalars(
            sa.select(OrderLine.id)
            .join(
                finished,
                sa.and_(finished.provider_service_id == OrderLine.provider_service_id, finished.link == OrderLine.link),
            )
            .where(finished.id.in_(finished_line_ids), OrderLine.fulfillment_status == LineStatus.QUEUED)
        )
        await queue_dispatch(uow, list(waiting))
