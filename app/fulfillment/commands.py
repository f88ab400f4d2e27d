"""Fulfillment commands: what happens to order lines on their way to and at the provider.

Staff decisions (retry, resolve an unknown dispatch, request a refill) and the provider's answers (dispatch
results, status reports) all change lines here, inside the caller's unit of work (see ``app/orders/commands.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.catalog.models import Service
from app.errors import Conflict, DomainError, ValidationFailed
from app.fulfillment.alerts import AlertTopic, alert_staff
from app.fulfillment.decisions import ACTION_STATES, LineAction
from app.fulfillment.models import Provider, ProviderKind, ProviderService, RefillRequest
from app.fulfillment.queueing import FULFILLMENT_QUEUE, POLL_LOCK, POLL_TASK, dispatch_backoff, queue_dispatch
from app.fulfillment.refill_window import window_end
from app.fulfillment.refunds import refund_undelivered_share
from app.i18n import N_, Message
from app.notifications.messages import paid_orders, send_orders_started, send_refill_requested
from app.orders import lifecycle
from app.orders.event_notes import Note
from app.orders.lifecycle import line_subject, lock_lines, record_event
from app.orders.models import EventKind, Order, OrderLine
from app.orders.states import FINAL_LINE_STATES, LINE_TRANSITIONS, LineStatus
from app.states import label as state_label
from app.uow import UnitOfWork

UPSTREAM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# ``data.hold`` of the event that put a line on hold for its provider's balance (not a person's decision).
BALANCE_HOLD = "provider_balance"
Locked = list[tuple[Order, OrderLine]]


class DispatchFinding(StrEnum):
    """What staff found at the provider for a line whose dispatch may or may not have arrived."""

    FOUND = "found"  # the order exists there: record its id
    NOT_PLACED = "not_placed"  # it was never placed: dispatch again


def _refuse_unless(order: Order, line: OrderLine, allowed: frozenset[LineStatus], why: str) -> None:
    if line.fulfillment_status not in allowed:
        raise DomainError(why, line=line_subject(order, line), state=state_label(line.fulfillment_status))


# -- staff decisions ---------------------------------------------------------------------------------------------


async def retry_dispatch(
    uow: UnitOfWork,
    *,
    line_ids: Sequence[int],
    actor: Actor,
    note: str | None = None,
    provider_service_id: int | None = None,
) -> Locked:
    """Lines the provider refused (failed) go back into the dispatch queue.

    ``provider_service_id``: send them to this upstream service instead (one of :func:`retry_alternatives`).
    """
    locked = await lock_lines(uow, line_ids)
    for order, line in locked:
        _refuse_unless(
            order,
            line,
            ACTION_STATES[LineAction.RETRY],
            N_(
                "%(line)s is %(state)s; only failed lines are retried (unknown dispatches are resolved, "
                "held lines resumed)"
            ),
        )
        data = None
        if provider_service_id is not None and provider_service_id != line.provider_service_id:
            alternatives = {choice.id: choice for choice in await retry_alternatives(uow.session, line)}
            upstream = alternatives.get(provider_service_id)
            if upstream is None:
                raise ValidationFailed(
                    {"provider_service": N_("choose a service of an active provider that takes this line")}
                )
            data = {"provider_service_id": upstream.id, "previous_provider_service_id": line.provider_service_id}
            line.provider_id, line.provider_service_id = upstream.provider_id, upstream.id
        lifecycle.set_line_status(uow, order, line, LineStatus.QUEUED, actor, note=note or "retry", data=data)
    await queue_dispatch(uow, [line.id for _order, line in locked])
    uow.audit_changes(actor, "retry-dispatch", details={"note": note, "chosen_provider_service": provider_service_id})
    await uow.flush()
    return locked


async def retry_alternatives(session: AsyncSession, line: OrderLine) -> list[ProviderService]:
    """Upstream services a failed line could be sent to instead: listed services of active, non-manual providers,
    of the same type as the line's current one, taking the line's quantity (its current service first)."""
    current = await session.get(ProviderService, line.provider_service_id) if line.provider_service_id else None
    stmt = (
        sa.select(ProviderService)
        .join(Provider, Provider.id == ProviderService.provider_id)
        .where(
            Provider.is_active.is_(True),
            Provider.kind != ProviderKind.MANUAL,
            ProviderService.is_listed.is_(True),
            ProviderService.min_quantity <= line.quantity,
            ProviderService.max_quantity >= line.quantity,
        )
        .order_by(ProviderService.id != line.provider_service_id, Provider.name, ProviderService.rate)
    )
    if current is not None:
        stmt = stmt.where(ProviderService.type == current.type)
    return list((await session.scalars(stmt)).unique())


async def check_status_now(uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor) -> Locked:
    """Ask the provider about lines at it right away: due for polling now, with a poll job deferred."""
    locked = await lock_lines(uow, line_ids)
    for order, line in locked:
        _refuse_unless(
            order,
            line,
            ACTION_STATES[LineAction.CHECK_STATUS],
            N_("%(line)s is %(state)s; only lines at the provider can be asked about"),
        )
        provider = await uow.session.get(Provider, line.provider_id) if line.provider_id else None
        if line.provider_order_id is None or provider is None or provider.kind == ProviderKind.MANUAL:
            raise DomainError(N_("%(line)s has no provider order to ask about"), line=line_subject(order, line))
        line.next_poll_at = uow.now()
        record_event(uow, order, EventKind.PROVIDER, actor, line=line, note=N_("status check requested"))
    await uow.defer_unless_waiting(
        POLL_TASK, [({"timestamp": int(uow.now().timestamp())}, POLL_LOCK)], queue=FULFILLMENT_QUEUE
    )
    uow.audit_changes(actor, "check-status")
    await uow.flush()
    return locked


async def resolve_unknown_dispatch(
    uow: UnitOfWork,
    *,
    line_ids: Sequence[int],
    actor: Actor,
    finding: DispatchFinding,
    upstream_order_id: str | None = None,
) -> Locked:
    """Staff checked the provider: the order exists there (its id) or it was never placed (re-queue). Never both."""
    upstream = (upstream_order_id or "").strip() or None
    if finding == DispatchFinding.FOUND:
        if upstream is None:
            raise ValidationFailed({"upstream_order_id": N_("enter the provider's order id")})
        if not UPSTREAM_ID.match(upstream):
            raise ValidationFailed({"upstream_order_id": N_("use the provider's order id (letters, digits, - or _)")})
        if len(set(line_ids)) > 1:
            raise ValidationFailed({"upstream_order_id": N_("a provider's order id belongs to one line only")})
    locked = await lock_lines(uow, line_ids)
    paid_before = paid_orders(order for order, _line in locked)
    for order, line in locked:
        _refuse_unless(
            order,
            line,
            ACTION_STATES[LineAction.RESOLVE],
            N_("%(line)s is %(state)s, not awaiting review"),
        )
        if upstream is None:
            lifecycle.set_line_status(
                uow, order, line, LineStatus.QUEUED, actor, note=N_("not placed at the provider: dispatch again")
            )
            await queue_dispatch(uow, [line.id])
            continue
        line.provider_order_id = upstream
        try:
            async with uow.session.begin_nested():
                lifecycle.set_line_status(
                    uow,
                    order,
                    line,
                    LineStatus.DISPATCHED,
                    actor,
                    note=Message(N_("found at the provider as order %(upstream)s"), {"upstream": upstream}),
                    data={"provider_order_id": upstream},
                )
                await uow.flush()
        except IntegrityError as exc:
            raise Conflict(N_("provider order %(id)s already belongs to another line"), id=upstream) from exc
    uow.audit_changes(actor, "resolve-dispatch", details={"finding": finding, "upstream_order_id": upstream})
    await send_orders_started(uow, (order for order, _line in locked), paid_before=paid_before)
    await uow.flush()
    return locked


async def request_refill(uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor) -> Locked:
    """Record a refill within the service's refill window; the worker sends it to the provider."""
    locked = await lock_lines(uow, line_ids)
    for order, line in locked:
        subject = line_subject(order, line)
        _refuse_unless(
            order,
            line,
            ACTION_STATES[LineAction.REQUEST_REFILL],
            N_("%(line)s is %(state)s; only delivered lines can be refilled"),
        )
        service = await uow.session.get(Service, line.service_id)
        refill_days = service.refill_days if service else 0
        if refill_days <= 0:
            raise DomainError(
                N_("%(line)s: the service %(service)s has no refill guarantee"), line=subject, service=line.service_name
            )
        if line.provider_order_id is None or line.provider_id is None:
            raise DomainError(N_("%(line)s has no provider order to refill"), line=subject)
        deadline = window_end(line, refill_days)
        if uow.now() > deadline:
            raise DomainError(
                N_("%(line)s: the refill window ended on %(date)s (%(days)s days)"),
                line=subject,
                date=f"{deadline:%Y-%m-%d}",
                days=refill_days,
            )
        refill = RefillRequest(order_line_id=line.id, provider_id=line.provider_id, requested_by=actor.describe())
        try:
            async with uow.session.begin_nested():
                uow.session.add(refill)
                await uow.flush()
        except IntegrityError as exc:
            raise Conflict(N_("%(line)s already has an open refill request"), line=subject) from exc
        record_event(
            uow,
            order,
            EventKind.PROVIDER,
            actor,
            line=line,
            note=N_("refill requested"),
            data={"refill_request_id": refill.id},
        )
        uow.audit(actor, "request-refill", "refill_request", refill.id, details={"order_line": line.id})
        await send_refill_requested(uow, order, line)
    await uow.flush()
    return locked


# -- the provider's side (dispatch and status polling run these) ------------------------------------------------


async def start_dispatch(uow: UnitOfWork, *, line_id: int, actor: Actor) -> OrderLine:
    """A queued line is about to be sent: committed as dispatching before the request leaves."""
    (line,) = await start_dispatches(uow, line_ids=[line_id], actor=actor)
    return line


async def start_dispatches(
    uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor, batch: int | None = None
) -> list[OrderLine]:
    """Queued lines about to be sent together: all committed as dispatching before any request leaves.

    ``batch``: the line whose dispatch job sends them all (kept on each event as ``data.batch``), so that job, run
    again after its worker died, finds every line it left dispatching.
    """
    locked = await lock_lines(uow, line_ids, related=False)  # a hot path: statuses only
    data = {"batch": batch} if batch is not None else None
    for order, line in locked:
        lifecycle.set_line_status(uow, order, line, LineStatus.DISPATCHING, actor, data=data)
        line.attempts += 1
    uow.audit_changes(actor, "start-dispatch")
    await uow.flush()
    return [line for _order, line in locked]


class DispatchResult(StrEnum):
    ACCEPTED = "accepted"  # the provider answered with its order id
    UNKNOWN = "unknown"  # sent, but no usable answer (timeout, 5xx, garbled): it may exist there
    NOT_SENT = "not_sent"  # the request never left (connection refused): retried later
    LOW_BALANCE = "low_balance"  # the provider's balance is too low: held until it is topped up
    REFUSED = "refused"  # a definitive error from the provider


RESULT_STATES = {
    DispatchResult.ACCEPTED: LineStatus.DISPATCHED,
    DispatchResult.UNKNOWN: LineStatus.DISPATCH_UNKNOWN,
    DispatchResult.NOT_SENT: LineStatus.QUEUED,
    DispatchResult.LOW_BALANCE: LineStatus.ON_HOLD,
    DispatchResult.REFUSED: LineStatus.FAILED,
}


@dataclass(frozen=True)
class UpstreamProgress:
    """What the provider reports for a line (API v2 ``status``)."""

    status: LineStatus  # dispatched (still pending there), in_progress, completed, partial or canceled
    start_count: int | None = None
    remains: int | None = None
    charge: Decimal | None = None  # what the provider charges us, in its currency
    raw: str | None = None  # the provider's answer as received, kept on the event when the status changes


# How far along a line is: a provider's report never moves a line back (answers can arrive out of order).
_PROGRESS_RANK = {
    LineStatus.DISPATCHED: 0,
    LineStatus.IN_PROGRESS: 1,
    LineStatus.COMPLETED: 2,
    LineStatus.PARTIAL: 2,
    LineStatus.CANCELED: 2,
}
RAW_ANSWER_LIMIT = 4000  # characters of a provider's answer kept on an event
FIRST_POLL_AFTER = timedelta(seconds=20)


def poll_interval(age: timedelta) -> timedelta:
    """How long to wait before asking the provider again about a line dispatched ``age`` ago."""
    for younger_than, wait in POLL_SCHEDULE:
        if age < younger_than:
            return wait
    return timedelta(hours=1)


POLL_SCHEDULE = (
    (timedelta(minutes=15), timedelta(seconds=20)),
    (timedelta(hours=1), timedelta(minutes=1)),
    (timedelta(hours=6), timedelta(minutes=5)),
    (timedelta(hours=24), timedelta(minutes=15)),
)


def _answer(raw: str | None) -> dict[str, str]:
    return {"provider_answer": raw[:RAW_ANSWER_LIMIT]} if raw else {}


async def record_dispatch(
    uow: UnitOfWork,
    *,
    line_id: int,
    actor: Actor,
    result: DispatchResult,
    provider_order_id: str | None = None,
    note: str | None = None,
    raw: str | None = None,
    retry_at: datetime | None = None,
) -> OrderLine:
    """The outcome of sending a dispatching line to its provider.

    ``raw``: the provider's answer as received (kept on the event). A request that never left goes back to the
    queue with a dispatch job at ``retry_at`` (default: the backoff for the line's attempts so far). A provider
    order id that already belongs to another line of the provider is refused (Conflict): nothing is written.
    """
    ((order, line),) = await lock_lines(uow, [line_id])
    if result == DispatchResult.ACCEPTED and not _usable_upstream_id(provider_order_id):
        raise ValidationFailed({"provider_order_id": N_("use the provider's order id (letters, digits, - or _)")})
    paid_before = paid_orders([order])
    outcome = DispatchOutcome(line_id, result, provider_order_id, note, raw)
    try:
        async with uow.session.begin_nested():
            await _apply_outcome(uow, order, line, outcome, actor, retry_at=retry_at)
            await uow.flush()
    except IntegrityError as exc:
        raise Conflict(N_("provider order %(id)s already belongs to another line"), id=provider_order_id) from exc
    uow.audit_changes(actor, "record-dispatch", details={"result": result, "note": note})
    if result == DispatchResult.UNKNOWN:
        await alert_staff(
            uow,
            actor,
            AlertTopic.DISPATCH_UNKNOWN,
            "order-line",
            line.id,
            message=f"{order.number} line {line.position} ({line.service_name}): dispatch unknown: {note or '-'}; "
            "check the provider before sending it again",
        )
    await send_orders_started(uow, [order], paid_before=paid_before)
    await uow.flush()
    return line


@dataclass(frozen=True)
class DispatchOutcome:
    """What sending one line came to (``raw``: the provider's answer as received)."""

    line_id: int
    result: DispatchResult
    provider_order_id: str | None = None
    note: Note | None = None
    raw: str | None = None


async def record_dispatches(uow: UnitOfWork, *, outcomes: Sequence[DispatchOutcome], actor: Actor) -> list[OrderLine]:
    """The outcomes of lines sent together, recorded at once (the batch form of :func:`record_dispatch`).

    A line that moved on meanwhile to a state its outcome cannot follow is left as it is and not returned (an answer
    arriving after the sweep gave the line up as unknown is still recorded: the upstream id settles the doubt).
    An upstream order id that is unusable, or already belongs to another line of the provider (or to another line
    of the batch), is recorded as unknown: the request reached the provider, but which order there is this line's
    needs a person. Nothing is written for one line that is not written for all (one flush); a
    race with another writer on an upstream id still raises ``IntegrityError`` for the caller to retry line by line.
    """
    by_line = {outcome.line_id: outcome for outcome in outcomes}
    locked = [
        (order, line)
        for order, line in await lock_lines(uow, by_line, related=False)  # a hot path: statuses only
        if RESULT_STATES[by_line[line.id].result] in LINE_TRANSITIONS.get(line.fulfillment_status, ())
    ]
    taken = await _upstream_ids_in_use(uow, [line for _order, line in locked], by_line)
    paid_before = paid_orders(order for order, _line in locked)
    for order, line in locked:
        outcome = by_line[line.id]
        if outcome.result == DispatchResult.ACCEPTED:
            problem = _upstream_id_problem(
                outcome.provider_order_id, (line.provider_id, outcome.provider_order_id), taken
            )
            if problem:
                outcome = DispatchOutcome(line.id, DispatchResult.UNKNOWN, note=problem, raw=outcome.raw)
            taken.add((line.provider_id, outcome.provider_order_id))
        by_line[line.id] = outcome
        await _apply_outcome(uow, order, line, outcome, actor)
    for row in uow.audit_changes(actor, "record-dispatch"):
        outcome_of_line = by_line.get(int(row.entity_id or 0)) if row.entity_type == "order_line" else None
        if outcome_of_line is not None:
            note = outcome_of_line.note
            details = {"result": str(outcome_of_line.result), "note": None if note is None else str(note)}
            row.diff = {**(row.diff or {}), **{key: value for key, value in details.items() if value}}
    await send_orders_started(uow, (order for order, _line in locked), paid_before=paid_before)
    await uow.flush()
    return [line for _order, line in locked]


def _usable_upstream_id(provider_order_id: str | None) -> bool:
    return bool(provider_order_id and UPSTREAM_ID.match(provider_order_id))


def _upstream_id_problem(
    provider_order_id: str | None, key: tuple[int | None, str | None], taken: set[tuple[int | None, str | None]]
) -> str | None:
    if not _usable_upstream_id(provider_order_id):
        return f"the provider answered with an unusable order id: {provider_order_id!r}"
    if key in taken:
        return f"the provider answered with order id {provider_order_id}, which belongs to another line"
    return None


async def _upstream_ids_in_use(
    uow: UnitOfWork, lines: Sequence[OrderLine], outcomes: dict[int, DispatchOutcome]
) -> set[tuple[int | None, str | None]]:
    """(provider, upstream order id) pairs of the batch's answers that other lines already hold."""
    answered = {
        outcomes[line.id].provider_order_id
        for line in lines
        if outcomes[line.id].result == DispatchResult.ACCEPTED
        and _usable_upstream_id(outcomes[line.id].provider_order_id)
    }
    providers = {line.provider_id for line in lines if line.provider_id is not None}
    if not answered or not providers:
        return set()
    rows = await uow.session.execute(
        sa.select(OrderLine.provider_id, OrderLine.provider_order_id).where(
            OrderLine.provider_id.in_(providers),
            OrderLine.provider_order_id.in_(answered),
            OrderLine.id.not_in([line.id for line in lines]),
        )
    )
    return {(provider_id, upstream) for provider_id, upstream in rows}


async def _apply_outcome(
    uow: UnitOfWork,
    order: Order,
    line: OrderLine,
    outcome: DispatchOutcome,
    actor: Actor,
    *,
    retry_at: datetime | None = None,
) -> None:
    """One line's outcome: its state, event (with the raw answer), and a retry job when the request never left."""
    if outcome.result == DispatchResult.ACCEPTED:
        line.provider_order_id = outcome.provider_order_id
        line.next_poll_at = uow.now() + FIRST_POLL_AFTER
    data: dict[str, Any] = {"provider_order_id": outcome.provider_order_id} if outcome.provider_order_id else {}
    if outcome.result == DispatchResult.LOW_BALANCE:
        data["hold"] = BALANCE_HOLD  # resumed automatically once the provider's balance is topped up
    data.update(_answer(outcome.raw))
    lifecycle.set_line_status(
        uow, order, line, RESULT_STATES[outcome.result], actor, note=outcome.note, data=data or None
    )
    if outcome.result == DispatchResult.NOT_SENT:
        await queue_dispatch(uow, [line.id], at=retry_at or uow.now() + dispatch_backoff(line.attempts))
    if outcome.result == DispatchResult.LOW_BALANCE and line.provider_id is not None:
        details = {"note": None if outcome.note is None else str(outcome.note), "line": line.id}
        uow.audit(actor, "provider-low-balance", "provider", line.provider_id, details=details)


async def flag_for_review(uow: UnitOfWork, *, line_id: int, actor: Actor, reason: str) -> OrderLine:
    """An unknown dispatch nobody could match automatically: staff must check the provider."""
    ((order, line),) = await lock_lines(uow, [line_id])
    lifecycle.set_line_status(uow, order, line, LineStatus.NEEDS_REVIEW, actor, note=reason)
    uow.audit_changes(actor, "flag-for-review", details={"reason": reason})
    await uow.flush()
    return line


async def record_progress(
    uow: UnitOfWork,
    *,
    line_id: int,
    actor: Actor,
    progress: UpstreamProgress,
    note: str | None = None,
    locked: tuple[Order, OrderLine] | None = None,
) -> OrderLine:
    """A status report from the provider: counts, and the line's state when it changed.

    Idempotent: the same report twice changes nothing the second time. A report behind what the line already
    reached (``In progress`` after ``Completed``: answers arrive out of order) is ignored. A line ending partial
    or canceled is owed a refund of what was not delivered (:func:`refund_undelivered_share`). ``locked``: the
    line and its order, already locked in this unit of work with ``lock_lines`` (the poller locks a whole batch
    at once); else the line is locked here.
    """
    if locked is None:
        ((order, line),) = await lock_lines(uow, [line_id])
    else:
        order, line = locked
        if line.id != line_id or line.order_id != order.id:
            raise ValueError(f"locked is not line {line_id} with its order")
        uow.track(order, *order.lines)  # the state before this report, for its audit row
    current = _PROGRESS_RANK.get(line.fulfillment_status)
    reported = _PROGRESS_RANK[progress.status]
    paid_before = paid_orders([order])
    if current is not None and (reported < current or (reported == current and line.finished_at is not None)):
        return line  # stale or repeated final report: nothing moves back
    if progress.start_count is not None:
        line.start_count = progress.start_count
    if progress.charge is not None:
        line.charge = progress.charge
    if progress.remains is not None:
        remains = min(max(progress.remains, 0), line.quantity)
        if remains != line.remains:
            line.remains = remains
            line.last_progress_at = uow.now()
    if progress.status != line.fulfillment_status:
        lifecycle.set_line_status(
            uow, order, line, progress.status, actor, note=note, data=_answer(progress.raw) or None
        )
        if progress.status in (LineStatus.PARTIAL, LineStatus.CANCELED):
            await refund_undelivered_share(uow, order, line, actor)
        await send_orders_started(uow, [order], paid_before=paid_before)
    if line.fulfillment_status not in FINAL_LINE_STATES:
        line.next_poll_at = uow.now() + poll_interval(uow.now() - (line.dispatched_at or uow.now()))
    uow.audit_changes(actor, "record-progress")
    await uow.flush()
    return line
