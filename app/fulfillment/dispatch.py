"""Sending queued lines to their provider: exactly once, or visibly unknown — never twice.

Three steps, each its own transaction or none (``dispatch_line`` runs them; tests run them one by one to stop
"the worker" between them):

1. :func:`take_line` — unit of work 1: the line and its order taken with ``FOR UPDATE SKIP LOCKED``; if it is
   still queued, its provider can be asked and no other line for the same link and provider service is live
   there, it is committed as ``dispatching`` (``start_dispatches``) before anything leaves — together with up to
   ``batch_size - 1`` other queued lines of the same provider whose own jobs wait to run now (lines, orders and
   those jobs taken with ``SKIP LOCKED`` in one statement, the jobs dropped in the same unit of work, so no other
   job ever finds a line of the batch ``dispatching`` while it is in flight). A provider known to lack funds gets
   nothing: the lines wait on hold for its balance instead.
2. :func:`send` — no transaction: the API v2 ``add`` for every line of the batch, concurrently, over one client
   (one connection pool) for the provider.
3. :func:`record_outcome` — unit of work 2: ``record_dispatches`` with what came back for each line (the raw
   answer on its event); a refusal for lack of funds alerts staff once.

A worker that dies after step 1 leaves the batch ``dispatching``; whoever finds it there later (the leading
line's job rerun after stalled-job recovery, which gives up every line of its batch — ``data.batch`` on their
events — or the sweep) marks it ``dispatch_unknown``: a request may have reached the provider, so it is never
sent again without a person looking (:func:`give_up_unknown`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import lazyload

from app.actors import Actor
from app.catalog.models import ServiceKind
from app.errors import DomainError
from app.fulfillment.commands import DispatchOutcome, DispatchResult, record_dispatches, start_dispatches
from app.fulfillment.holds import alert_refused_for_funds, hold_for_balance, known_low_on_funds
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.fulfillment.provider_errors import LOW_BALANCE_NOTE, REFUSED_NOTE
from app.fulfillment.queueing import drop_dispatch_jobs, queue_dispatch
from app.fulfillment.taking import left_in_batch, lines_to_take_along, link_is_live, lock_queued, upstream_service_ids
from app.i18n import Message
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from app.providers.clients import client_for
from app.providers.smm_v2 import (
    CustomCommentsOrder,
    DefaultOrder,
    InsufficientFunds,
    NewOrder,
    NotSent,
    OutcomeUnknown,
    PackageOrder,
    ProviderRefused,
    SmmV2Client,
    SubscriptionOrder,
    Timeouts,
)
from app.uow import UnitOfWork, unit_of_work

log = structlog.get_logger(__name__)

DISPATCHER = Actor.worker("dispatch")
# A line queued behind a live order for the same link and provider service looks again after this long.
LINK_BUSY_WAIT = timedelta(seconds=60)
SENDS_AT_ONCE = 10
HANDLE_IN_LINK = re.compile(r"^https?://[^/]+/@?([A-Za-z0-9._-]+)/?$")


class Taken(StrEnum):
    """What ``take_line`` found."""

    DISPATCHING = "dispatching"  # committed as dispatching: send it now
    NOT_QUEUED = "not_queued"  # someone else moved it (held, canceled, already dispatched): nothing to do
    BUSY = "busy"  # another transaction holds the line or its order right now: try again in a moment
    WAITING_FOR_STAFF = "waiting_for_staff"  # manual provider, or no provider service: staff fulfil it
    WAITING_FOR_LINK = "waiting_for_link"  # the same link and provider service is live upstream: wait
    WAITING_FOR_FUNDS = "waiting_for_funds"  # the provider is known to lack funds: on hold until it is topped up
    FOUND_DISPATCHING = "found_dispatching"  # a dead worker left it dispatching: now dispatch_unknown


@dataclass(frozen=True)
class Ticket:
    """One line of a batch, with what its ``add`` request sends."""

    line_id: int
    new_order: NewOrder | None  # None: the line's terms cannot be sent (``problem`` says why)
    problem: str | None = None


@dataclass(frozen=True)
class Batch:
    """Lines of one provider committed as dispatching together, with what is needed to send them outside any
    transaction (the first ticket is the line whose job took them)."""

    provider_id: int
    tickets: tuple[Ticket, ...]
    client: SmmV2Client | None  # None: the provider cannot be asked now (``problem`` says why)
    problem: str | None = None

    @property
    def line_ids(self) -> list[int]:
        return [ticket.line_id for ticket in self.tickets]


def subscription_username(link: str) -> str:
    """The account a subscription watches: the handle of a profile link (``…/name/``, ``…/@name``)."""
    match = HANDLE_IN_LINK.match(link.strip())
    return match.group(1) if match else link.strip()


def new_order_for(line: OrderLine, external_id: str) -> NewOrder:
    """The API v2 ``add`` for a line, by its service kind (raises ValueError for terms that cannot be sent)."""
    match line.service_kind:
        case ServiceKind.PACKAGE:
            return PackageOrder(external_id, line.link)
        case ServiceKind.CUSTOM_COMMENTS:
            comments = tuple(c for c in (line.comments or "").splitlines() if c.strip())
            return CustomCommentsOrder(external_id, line.link, comments)
        case ServiceKind.SUBSCRIPTION:
            return SubscriptionOrder(external_id, subscription_username(line.link), line.quantity, line.quantity)
        case ServiceKind.DRIP_FEED if line.runs is not None:
            return DefaultOrder(external_id, line.link, line.quantity, line.runs, line.interval_minutes or 0)
        case _:
            return DefaultOrder(external_id, line.link, line.quantity)


def _ticket(line: OrderLine, external_id: str) -> Ticket:
    try:
        new_order = new_order_for(line, external_id)
        new_order.fields()  # checks the terms now: a line that cannot be sent fails, it is not retried
    except ValueError as exc:
        return Ticket(line.id, None, f"cannot be sent to the provider: {exc}")
    return Ticket(line.id, new_order)


class _LinkTaken(Exception):
    """The partial unique index refused a second live line for the link (a race the pre-check missed)."""


async def take_line(
    sessions: async_sessionmaker[AsyncSession],
    line_id: int,
    *,
    timeouts: Timeouts | None = None,
    batch_size: int = 1,
) -> tuple[Taken, Batch | None]:
    """Unit of work 1: commit the line (and up to ``batch_size - 1`` others) as dispatching if it may be sent now;
    else say why not."""
    try:
        async with unit_of_work(sessions) as uow:
            return await _take(uow, line_id, timeouts, batch_size)
    except _LinkTaken:
        if batch_size > 1:  # the refused link may be another line's of the batch: the line alone, then
            return await take_line(sessions, line_id, timeouts=timeouts)
        async with unit_of_work(sessions) as uow:
            await queue_dispatch(uow, [line_id], at=uow.now() + LINK_BUSY_WAIT)
        return Taken.WAITING_FOR_LINK, None


async def _take(
    uow: UnitOfWork, line_id: int, timeouts: Timeouts | None, batch_size: int
) -> tuple[Taken, Batch | None]:
    session = uow.session
    status = await lock_queued(session, line_id)
    if status is None:
        exists = await session.scalar(sa.select(OrderLine.id).where(OrderLine.id == line_id))
        return (Taken.BUSY if exists else Taken.NOT_QUEUED), None
    if status == LineStatus.DISPATCHING:
        reason = "the worker stopped while sending it"
        await give_up_unknown(uow, [line_id, *await left_in_batch(session, line_id)], reason=reason)
        return Taken.FOUND_DISPATCHING, None
    if status != LineStatus.QUEUED:
        return Taken.NOT_QUEUED, None
    found = (
        await session.execute(
            sa.select(OrderLine, ProviderService, Provider)
            .outerjoin(ProviderService, ProviderService.id == OrderLine.provider_service_id)
            .outerjoin(Provider, Provider.id == OrderLine.provider_id)
            .where(OrderLine.id == line_id)
            .options(lazyload("*"))
        )
    ).one()
    line, upstream, provider = found._tuple()
    if upstream is None or provider is None or provider.kind == ProviderKind.MANUAL or not provider.is_active:
        return Taken.WAITING_FOR_STAFF, None
    if await link_is_live(session, line):
        await queue_dispatch(uow, [line_id], at=uow.now() + LINK_BUSY_WAIT)
        return Taken.WAITING_FOR_LINK, None
    companions = await lines_to_take_along(session, line, batch_size - 1) if batch_size > 1 else []
    await drop_dispatch_jobs(uow, [job_id for _companion, job_id in companions])
    line_ids = [line_id, *(companion.id for companion, _job_id in companions)]
    if await known_low_on_funds(uow, provider):
        await hold_for_balance(uow, line_ids=line_ids, actor=DISPATCHER)
        return Taken.WAITING_FOR_FUNDS, None
    try:
        async with session.begin_nested():
            await start_dispatches(uow, line_ids=line_ids, actor=DISPATCHER, batch=line_id if companions else None)
    except IntegrityError as exc:
        raise _LinkTaken from exc
    external_ids = await upstream_service_ids(session, [companion for companion, _job_id in companions])
    external_ids[upstream.id] = upstream.external_id
    tickets = tuple(
        _ticket(each, external_ids[each.provider_service_id or 0]) for each in [line, *(c for c, _ in companions)]
    )
    try:
        client = await client_for(session, provider, timeouts=timeouts)
    except DomainError as exc:
        return Taken.DISPATCHING, Batch(provider.id, tickets, None, exc.message)
    return Taken.DISPATCHING, Batch(provider.id, tickets, client)


async def send(batch: Batch) -> list[DispatchOutcome]:
    """Step 2, outside any transaction: the lines' ``add`` requests, ``SENDS_AT_ONCE`` at a time, and what each
    outcome means."""
    gate = asyncio.Semaphore(SENDS_AT_ONCE)
    try:
        async with asyncio.TaskGroup() as group:
            sending = [group.create_task(_send_one(batch, ticket, gate)) for ticket in batch.tickets]
    finally:
        if batch.client is not None:
            await batch.client.aclose()
    return [task.result() for task in sending]


async def _send_one(batch: Batch, ticket: Ticket, gate: asyncio.Semaphore) -> DispatchOutcome:
    async with gate:
        return await _add(batch, ticket)


async def _add(batch: Batch, ticket: Ticket) -> DispatchOutcome:
    line_id = ticket.line_id
    if ticket.new_order is None:
        return DispatchOutcome(line_id, DispatchResult.REFUSED, note=ticket.problem)
    if batch.client is None:
        return DispatchOutcome(line_id, DispatchResult.NOT_SENT, note=batch.problem)
    try:
        placed = await batch.client.add(ticket.new_order)
    except NotSent as exc:
        return DispatchOutcome(line_id, DispatchResult.NOT_SENT, note=str(exc), raw=exc.raw)
    except OutcomeUnknown as exc:
        return DispatchOutcome(line_id, DispatchResult.UNKNOWN, note=str(exc), raw=exc.raw)
    except InsufficientFunds as exc:
        note = LOW_BALANCE_NOTE + exc.provider_message
        return DispatchOutcome(line_id, DispatchResult.LOW_BALANCE, note=note, raw=exc.raw)
    except ProviderRefused as exc:
        return DispatchOutcome(
            line_id,
            DispatchResult.REFUSED,
            note=Message(REFUSED_NOTE, {"message": exc.provider_message}),
            raw=exc.raw,
        )
    return DispatchOutcome(line_id, DispatchResult.ACCEPTED, provider_order_id=placed.order_id, raw=placed.raw)


async def record_outcome(
    sessions: async_sessionmaker[AsyncSession], batch: Batch, outcomes: list[DispatchOutcome]
) -> dict[int, LineStatus]:
    """Unit of work 2: every line's outcome recorded at once; the status each line is in afterwards."""
    try:
        async with unit_of_work(sessions) as uow:
            recorded = await record_dispatches(uow, outcomes=outcomes, actor=DISPATCHER)
            refused = [o for o in outcomes if o.result == DispatchResult.LOW_BALANCE]
            if refused:
                await alert_refused_for_funds(
                    uow,
                    provider_id=batch.provider_id,
                    line_ids=[o.line_id for o in refused],
                    actor=DISPATCHER,
                    note=str(refused[0].note) if refused[0].note else None,
                )
            statuses = {line.id: line.fulfillment_status for line in recorded}
    except IntegrityError:
        # Another line took an upstream id between the check and the write (a provider repeating ids): one by one.
        statuses = {o.line_id: await _record_one(sessions, o) for o in outcomes}
    for moved in (o for o in outcomes if o.line_id not in statuses):
        # The line was marked dispatch_unknown meanwhile (the sweep thought this worker dead): staff decide.
        log.warning("dispatch outcome after the line moved on", line_id=moved.line_id, result=moved.result)
        statuses[moved.line_id] = await _status(sessions, moved.line_id)
    return statuses


async def _record_one(sessions: async_sessionmaker[AsyncSession], outcome: DispatchOutcome) -> LineStatus:
    try:
        async with unit_of_work(sessions) as uow:
            lines = await record_dispatches(uow, outcomes=[outcome], actor=DISPATCHER)
            if lines:
                return lines[0].fulfillment_status
    except IntegrityError:
        note = f"the provider answered with order id {outcome.provider_order_id}, which belongs to another line"
        unknown = DispatchOutcome(outcome.line_id, DispatchResult.UNKNOWN, note=note, raw=outcome.raw)
        return await _record_one(sessions, unknown)
    return await _status(sessions, outcome.line_id)


async def _status(sessions: async_sessionmaker[AsyncSession], line_id: int) -> LineStatus:
    async with sessions() as session:
        return LineStatus(await session.scalar(sa.select(OrderLine.fulfillment_status).where(OrderLine.id == line_id)))


async def give_up_unknown(uow: UnitOfWork, line_ids: Sequence[int], *, reason: str) -> None:
    """Lines left dispatching by a worker that died: their requests may be at the provider, staff check."""
    outcomes = [DispatchOutcome(line_id, DispatchResult.UNKNOWN, note=reason) for line_id in line_ids]
    await record_dispatches(uow, outcomes=outcomes, actor=DISPATCHER)


async def dispatch_line(
    sessions: async_sessionmaker[AsyncSession],
    line_id: int,
    *,
    timeouts: Timeouts | None = None,
    batch_size: int = 1,
) -> Taken | LineStatus:
    """The dispatch job's work for one line (and up to ``batch_size - 1`` others it takes along): what it found, or
    the status the line ended in."""
    taken, batch = await take_line(sessions, line_id, timeouts=timeouts, batch_size=batch_size)
    if batch is None:
        return taken
    outcomes = await send(batch)
    statuses = await record_outcome(sessions, batch, outcomes)
    log.info("lines dispatched", line_id=line_id, lines=len(statuses), status=statuses[line_id])
    return statuses[line_id]
