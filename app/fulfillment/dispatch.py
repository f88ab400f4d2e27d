"""Sending a queued line to its provider: exactly once, or visibly unknown — never twice.

Three steps, each its own transaction or none (``dispatch_line`` runs them; tests run them one by one to stop
"the worker" between them):

1. :func:`take_line` — unit of work 1: the line and its order taken with ``FOR UPDATE SKIP LOCKED``; if it is
   still queued, its provider can be asked and no other line for the same link and provider service is live
   there, it is committed as ``dispatching`` (``start_dispatch``) before anything leaves.
2. :func:`send` — no transaction: the API v2 ``add`` with the fields the service kind needs.
3. :func:`record_outcome` — unit of work 2: ``record_dispatch`` with what came back (the raw answer on the event).

A worker that dies after step 1 leaves the line ``dispatching``; whoever finds it there later (the same job
rerun after stalled-job recovery, or the sweep) marks it ``dispatch_unknown``: the request may have reached the
provider, so it is never sent again without a person looking (:func:`give_up_unknown`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.catalog.models import ServiceKind
from app.errors import Conflict, DomainError, InvalidTransition
from app.fulfillment.commands import DispatchResult, record_dispatch, start_dispatch
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.fulfillment.queueing import queue_dispatch
from app.orders.models import Order, OrderLine
from app.orders.states import ACTIVE_UPSTREAM, LineStatus
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
# How long taking a line waits for its order row (held by a sibling line's dispatch or by staff).
ORDER_LOCK_WAIT_MS = 2000
LOCK_NOT_AVAILABLE = "55P03"
HANDLE_IN_LINK = re.compile(r"^https?://[^/]+/@?([A-Za-z0-9._-]+)/?$")


class Taken(StrEnum):
    """What ``take_line`` found."""

    DISPATCHING = "dispatching"  # committed as dispatching: send it now
    NOT_QUEUED = "not_queued"  # someone else moved it (held, canceled, already dispatched): nothing to do
    BUSY = "busy"  # another transaction holds the line or its order right now: try again in a moment
    WAITING_FOR_STAFF = "waiting_for_staff"  # manual provider, or no provider service: staff fulfil it
    WAITING_FOR_LINK = "waiting_for_link"  # the same link and provider service is live upstream: wait
    FOUND_DISPATCHING = "found_dispatching"  # a dead worker left it dispatching: now dispatch_unknown


@dataclass(frozen=True)
class Ticket:
    """A line committed as dispatching, with everything needed to send it outside any transaction."""

    line_id: int
    provider_id: int
    new_order: NewOrder | None  # None: the line's terms cannot be sent (``problem`` says why)
    client: SmmV2Client | None  # None: the provider cannot be asked now (``problem`` says why)
    problem: str | None = None


@dataclass(frozen=True)
class Answer:
    result: DispatchResult
    provider_order_id: str | None = None
    note: str | None = None
    raw: str | None = None


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


async def _lock_queued(session: AsyncSession, line_id: int) -> LineStatus | None:
    """The line's status with its order and it row-locked (house order), or None when it cannot be had now.

    The order row is waited for, briefly: its other lines' dispatches hold it only for their short units of
    work, and bouncing off it (a retry a second later) cost more than the wait. A transaction holding it longer
    (staff at work) makes this one give up after ``ORDER_LOCK_WAIT_MS``; the line itself is skipped when locked.
    """
    free: LineStatus | None = await session.scalar(
        sa.select(OrderLine.fulfillment_status)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.id == line_id)
        .with_for_update(of=[Order.__table__, OrderLine.__table__], skip_locked=True)
    )
    if free is not None:  # the common case: nobody held either row
        return free
    order_id = await session.scalar(sa.select(OrderLine.order_id).where(OrderLine.id == line_id))
    if order_id is None:
        return None
    try:
        async with session.begin_nested():
            await session.execute(sa.text(f"SET LOCAL lock_timeout = '{ORDER_LOCK_WAIT_MS}ms'"))
            await session.execute(sa.select(Order.id).where(Order.id == order_id).with_for_update(of=Order))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            return None
        raise
    await session.execute(sa.text("SET LOCAL lock_timeout TO DEFAULT"))
    stmt = sa.select(OrderLine.fulfillment_status).where(OrderLine.id == line_id).with_for_update(skip_locked=True)
    status: LineStatus | None = await session.scalar(stmt)
    return status


async def _link_is_live(session: AsyncSession, line: OrderLine) -> bool:
    stmt = sa.select(
        sa.exists().where(
            OrderLine.id != line.id,
            OrderLine.provider_service_id == line.provider_service_id,
            OrderLine.link == line.link,
            OrderLine.fulfillment_status.in_(ACTIVE_UPSTREAM),
        )
    )
    return bool(await session.scalar(stmt))


class _LinkTaken(Exception):
    """The partial unique index refused a second live line for the link (a race the pre-check missed)."""


async def take_line(
    sessions: async_sessionmaker[AsyncSession], line_id: int, *, timeouts: Timeouts | None = None
) -> tuple[Taken, Ticket | None]:
    """Unit of work 1: commit the line as dispatching if it may be sent now; else say why not."""
    try:
        async with unit_of_work(sessions) as uow:
            return await _take(uow, line_id, timeouts)
    except _LinkTaken:
        async with unit_of_work(sessions) as uow:
            await queue_dispatch(uow, [line_id], at=uow.now() + LINK_BUSY_WAIT)
        return Taken.WAITING_FOR_LINK, None


async def _take(uow: UnitOfWork, line_id: int, timeouts: Timeouts | None) -> tuple[Taken, Ticket | None]:
    session = uow.session
    status = await _lock_queued(session, line_id)
    if status is None:
        exists = await session.scalar(sa.select(OrderLine.id).where(OrderLine.id == line_id))
        return (Taken.BUSY if exists else Taken.NOT_QUEUED), None
    if status == LineStatus.DISPATCHING:
        await give_up_unknown(uow, line_id, reason="the worker stopped while sending it")
        return Taken.FOUND_DISPATCHING, None
    if status != LineStatus.QUEUED:
        return Taken.NOT_QUEUED, None
    line = await session.get_one(OrderLine, line_id)
    upstream = await session.get(ProviderService, line.provider_service_id) if line.provider_service_id else None
    provider = await session.get(Provider, line.provider_id) if line.provider_id else None
    if upstream is None or provider is None or provider.kind == ProviderKind.MANUAL or not provider.is_active:
        return Taken.WAITING_FOR_STAFF, None
    if await _link_is_live(session, line):
        await queue_dispatch(uow, [line_id], at=uow.now() + LINK_BUSY_WAIT)
        return Taken.WAITING_FOR_LINK, None
    try:
        async with session.begin_nested():
            await start_dispatch(uow, line_id=line_id, actor=DISPATCHER)
    except IntegrityError as exc:
        raise _LinkTaken from exc
    problem = None
    new_order: NewOrder | None = None
    client: SmmV2Client | None = None
    try:
        new_order = new_order_for(line, upstream.external_id)
        new_order.fields()  # checks the terms now: a line that cannot be sent fails, it is not retried
    except ValueError as exc:
        problem = f"cannot be sent to the provider: {exc}"
    if problem is None:
        try:
            client = await client_for(session, provider, timeouts=timeouts)
        except DomainError as exc:
            problem = exc.message
    return Taken.DISPATCHING, Ticket(line_id, provider.id, new_order, client, problem)


async def send(ticket: Ticket) -> Answer:
    """Step 2, outside any transaction: the ``add`` request, and what its outcome means for the line."""
    if ticket.new_order is None:
        return Answer(DispatchResult.REFUSED, note=ticket.problem)
    if ticket.client is None:
        return Answer(DispatchResult.NOT_SENT, note=ticket.problem)
    async with ticket.client as client:
        try:
            placed = await client.add(ticket.new_order)
        except NotSent as exc:
            return Answer(DispatchResult.NOT_SENT, note=str(exc), raw=exc.raw)
        except OutcomeUnknown as exc:
            return Answer(DispatchResult.UNKNOWN, note=str(exc), raw=exc.raw)
        except InsufficientFunds as exc:
            return Answer(DispatchResult.LOW_BALANCE, note=f"provider low balance: {exc.provider_message}", raw=exc.raw)
        except ProviderRefused as exc:
            return Answer(DispatchResult.REFUSED, note=f"provider: {exc.provider_message}", raw=exc.raw)
    return Answer(DispatchResult.ACCEPTED, provider_order_id=placed.order_id, raw=placed.raw)


async def record_outcome(sessions: async_sessionmaker[AsyncSession], ticket: Ticket, answer: Answer) -> LineStatus:
    """Unit of work 2: the outcome recorded on the line (the provider's raw answer on its event)."""
    try:
        async with unit_of_work(sessions) as uow:
            line = await record_dispatch(
                uow,
                line_id=ticket.line_id,
                actor=DISPATCHER,
                result=answer.result,
                provider_order_id=answer.provider_order_id,
                note=answer.note,
                raw=answer.raw,
            )
            return line.fulfillment_status
    except Conflict:
        note = f"the provider answered with order id {answer.provider_order_id}, which belongs to another line"
        unknown = Answer(DispatchResult.UNKNOWN, note=note, raw=answer.raw)
        return await record_outcome(sessions, ticket, unknown)
    except InvalidTransition:
        # The line was marked dispatch_unknown meanwhile (the sweep thought this worker dead): staff decide.
        log.warning("dispatch outcome after the line moved on", line_id=ticket.line_id, result=answer.result)
        async with sessions() as session:
            return LineStatus(
                await session.scalar(sa.select(OrderLine.fulfillment_status).where(OrderLine.id == ticket.line_id))
            )


async def give_up_unknown(uow: UnitOfWork, line_id: int, *, reason: str) -> None:
    """A line left dispatching by a worker that died: its request may be at the provider, staff check."""
    await record_dispatch(uow, line_id=line_id, actor=DISPATCHER, result=DispatchResult.UNKNOWN, note=reason)


async def dispatch_line(
    sessions: async_sessionmaker[AsyncSession], line_id: int, *, timeouts: Timeouts | None = None
) -> Taken | LineStatus:
    """The dispatch job's work for one line: what it found, or the status the line ended in."""
    taken, ticket = await take_line(sessions, line_id, timeouts=timeouts)
    if ticket is None:
        return taken
    answer = await send(ticket)
    status = await record_outcome(sessions, ticket, answer)
    log.info("line dispatched", line_id=line_id, result=answer.result, status=status)
    return status
