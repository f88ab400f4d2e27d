"""Fulfillment commands: what happens to order lines on their way to and at the provider.

Staff decisions (retry, resolve an unknown dispatch, request a refill) and the provider's answers (dispatch
results, status reports) all change lines here, inside the caller's unit of work (see ``app/orders/commands.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from app.actors import Actor
from app.catalog.models import Service
from app.errors import Conflict, DomainError, ValidationFailed
from app.fulfillment.models import RefillRequest
from app.i18n import N_
from app.orders import lifecycle
from app.orders.lifecycle import line_subject, lock_lines, record_event
from app.orders.models import EventKind, Order, OrderLine
from app.orders.states import LineStatus
from app.states import label as state_label
from app.uow import UnitOfWork

UPSTREAM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
Locked = list[tuple[Order, OrderLine]]


class DispatchFinding(StrEnum):
    """What staff found at the provider for a line whose dispatch may or may not have arrived."""

    FOUND = "found"  # the order exists there: record its id
    NOT_PLACED = "not_placed"  # it was never placed: dispatch again


def _refuse_unless(order: Order, line: OrderLine, allowed: set[LineStatus], why: str) -> None:
    if line.fulfillment_status not in allowed:
        raise DomainError(why, line=line_subject(order, line), state=state_label(line.fulfillment_status))


# -- staff decisions ---------------------------------------------------------------------------------------------


async def retry_dispatch(uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor, note: str | None = None) -> Locked:
    """Lines the provider refused (failed) go back into the dispatch queue."""
    locked = await lock_lines(uow, line_ids)
    for order, line in locked:
        _refuse_unless(
            order,
            line,
            {LineStatus.FAILED},
            N_(
                "%(line)s is %(state)s; only failed lines are retried (unknown dispatches are resolved, "
                "held lines resumed)"
            ),
        )
        lifecycle.set_line_status(uow, order, line, LineStatus.QUEUED, actor, note=note or "retry")
    uow.audit_changes(actor, "retry-dispatch", details={"note": note})
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
    for order, line in locked:
        _refuse_unless(
            order,
            line,
            {LineStatus.DISPATCH_UNKNOWN, LineStatus.NEEDS_REVIEW},
            N_("%(line)s is %(state)s, not awaiting review"),
        )
        if upstream is None:
            lifecycle.set_line_status(
                uow, order, line, LineStatus.QUEUED, actor, note="not placed at the provider: dispatch again"
            )
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
                    note=f"found at the provider as order {upstream}",
                    data={"provider_order_id": upstream},
                )
                await uow.flush()
        except IntegrityError as exc:
            raise Conflict(N_("provider order %(id)s already belongs to another line"), id=upstream) from exc
    uow.audit_changes(actor, "resolve-dispatch", details={"finding": finding, "upstream_order_id": upstream})
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
            {LineStatus.COMPLETED, LineStatus.PARTIAL},
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
        deadline = (line.finished_at or line.updated_at) + timedelta(days=refill_days)
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
            note="refill requested",
            data={"refill_request_id": refill.id},
        )
        uow.audit(actor, "request-refill", "refill_request", refill.id, details={"order_line": line.id})
    await uow.flush()
    return locked


# -- the provider's side (dispatch and status polling run these) ------------------------------------------------


async def start_dispatch(uow: UnitOfWork, *, line_id: int, actor: Actor) -> OrderLine:
    """A queued line is about to be sent: committed as dispatching before the request leaves."""
    ((order, line),) = await lock_lines(uow, [line_id])
    lifecycle.set_line_status(uow, order, line, LineStatus.DISPATCHING, actor)
    line.attempts += 1
    uow.audit_changes(actor, "start-dispatch")
    await uow.flush()
    return line


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

    status: LineStatus  # in_progress, completed, partial or canceled
    start_count: int | None = None
    remains: int | None = None


async def record_dispatch(
    uow: UnitOfWork,
    *,
    line_id: int,
    actor: Actor,
    result: DispatchResult,
    provider_order_id: str | None = None,
    note: str | None = None,
) -> OrderLine:
    """The outcome of sending a dispatching line to its provider."""
    ((order, line),) = await lock_lines(uow, [line_id])
    if result == DispatchResult.ACCEPTED:
        if not provider_order_id or not UPSTREAM_ID.match(provider_order_id):
            raise ValidationFailed({"provider_order_id": N_("use the provider's order id (letters, digits, - or _)")})
        line.provider_order_id = provider_order_id
    data = {"provider_order_id": provider_order_id} if provider_order_id else None
    lifecycle.set_line_status(uow, order, line, RESULT_STATES[result], actor, note=note, data=data)
    uow.audit_changes(actor, "record-dispatch", details={"result": result, "note": note})
    await uow.flush()
    return line


async def flag_for_review(uow: UnitOfWork, *, line_id: int, actor: Actor, reason: str) -> OrderLine:
    """An unknown dispatch nobody could match automatically: staff must check the provider."""
    ((order, line),) = await lock_lines(uow, [line_id])
    lifecycle.set_line_status(uow, order, line, LineStatus.NEEDS_REVIEW, actor, note=reason)
    uow.audit_changes(actor, "flag-for-review", details={"reason": reason})
    await uow.flush()
    return line


async def record_progress(
    uow: UnitOfWork, *, line_id: int, actor: Actor, progress: UpstreamProgress, note: str | None = None
) -> OrderLine:
    """A status report from the provider: counts, and the line's state when it changed."""
    ((order, line),) = await lock_lines(uow, [line_id])
    if progress.start_count is not None:
        line.start_count = progress.start_count
    if progress.remains is not None:
        line.remains = min(max(progress.remains, 0), line.quantity)
        line.last_progress_at = uow.now()
    if progress.status != line.fulfillment_status:
        lifecycle.set_line_status(uow, order, line, progress.status, actor, note=note)
    uow.audit_changes(actor, "record-progress")
    await uow.flush()
    return line
