"""Refills at the provider: open refill requests are sent (``refill``), then followed (``refill_status``).

Staff (or, later, the client) record a refill with ``request_refill``; this module is the worker's side. Each
provider is asked outside any transaction, 100 ids per request; the answers are recorded in one unit of work
per batch. A refill the provider refused ends ``failed`` with its message; one whose request did not get through
stays ``requested`` (its ``last_error`` says why) and is sent again on the next run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.errors import DomainError, NotFound
from app.fulfillment.commands import RAW_ANSWER_LIMIT
from app.fulfillment.models import OPEN_REFILL_STATES, Provider, RefillRequest, RefillStatus
from app.i18n import N_, Message
from app.notifications.messages import send_refill_done
from app.orders.lifecycle import lock_lines, record_event
from app.orders.models import EventKind, Order, OrderLine
from app.providers.clients import client_for
from app.providers.smm_v2 import (
    ItemError,
    ProviderError,
    RefillRequested,
    RefillState,
    SmmV2Client,
    SmmV2Error,
    Timeouts,
    UpstreamRefillStatus,
)
from app.states import label as state_label
from app.uow import UnitOfWork, unit_of_work

log = structlog.get_logger(__name__)

REFILLER = Actor.worker("refills")
MAX_REFILLS_PER_RUN = 1000
UPSTREAM_REFILL_STATES = {
    UpstreamRefillStatus.PENDING: RefillStatus.SENT,
    UpstreamRefillStatus.IN_PROGRESS: RefillStatus.IN_PROGRESS,
    UpstreamRefillStatus.COMPLETED: RefillStatus.COMPLETED,
    UpstreamRefillStatus.REJECTED: RefillStatus.REJECTED,
}
_RANK = {RefillStatus.SENT: 0, RefillStatus.IN_PROGRESS: 1, RefillStatus.COMPLETED: 2, RefillStatus.REJECTED: 2}


# -- commands ----------------------------------------------------------------------------------------------------


async def _lock_refill(uow: UnitOfWork, refill_id: int) -> tuple[RefillRequest, OrderLine, Order]:
    line_id = await uow.session.scalar(sa.select(RefillRequest.order_line_id).where(RefillRequest.id == refill_id))
    if line_id is None:
        raise NotFound(N_("Refill request %(id)s not found"), id=refill_id)
    ((order, line),) = await lock_lines(uow, [line_id])
    refill = await uow.session.scalar(
        sa.select(RefillRequest)
        .where(RefillRequest.id == refill_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert refill is not None
    uow.track(refill)
    return refill, line, order


def _raw(raw: str | None) -> dict[str, str]:
    return {"provider_answer": raw[:RAW_ANSWER_LIMIT]} if raw else {}


async def record_refill_sent(
    uow: UnitOfWork, *, refill_id: int, provider_refill_id: str, actor: Actor, raw: str | None = None
) -> RefillRequest:
    """The provider accepted the refill under its own id."""
    refill, line, order = await _lock_refill(uow, refill_id)
    if refill.status != RefillStatus.REQUESTED:
        return refill
    refill.status, refill.provider_refill_id, refill.last_error = RefillStatus.SENT, provider_refill_id, None
    record_event(
        uow,
        order,
        EventKind.PROVIDER,
        actor,
        line=line,
        note=Message(N_("refill sent to the provider (its refill %(refill)s)"), {"refill": provider_refill_id}),
        data={"refill_request_id": refill.id, "provider_refill_id": provider_refill_id, **_raw(raw)},
    )
    uow.audit_changes(actor, "send-refill")
    await uow.flush()
    return refill


async def record_refill_refused(
    uow: UnitOfWork, *, refill_id: int, message: str, actor: Actor, raw: str | None = None
) -> RefillRequest:
    """The provider refused the refill: it ends failed, with the provider's message."""
    refill, line, order = await _lock_refill(uow, refill_id)
    if refill.status != RefillStatus.REQUESTED:
        return refill
    refill.status, refill.last_error = RefillStatus.FAILED, message
    record_event(
        uow,
        order,
        EventKind.PROVIDER,
        actor,
        line=line,
        note=Message(N_("the provider refused the refill: %(message)s"), {"message": message}),
        data={"refill_request_id": refill.id, **_raw(raw)},
    )
    uow.audit_changes(actor, "send-refill")
    await uow.flush()
    return refill


async def record_refill_not_sent(uow: UnitOfWork, *, refill_id: int, error: str, actor: Actor) -> RefillRequest:
    """The request did not get through: the refill stays requested and is sent again on the next run."""
    refill, _line, _order = await _lock_refill(uow, refill_id)
    if refill.status == RefillStatus.REQUESTED:
        refill.last_error = error
    uow.audit_changes(actor, "send-refill")
    await uow.flush()
    return refill


async def record_refill_status(
    uow: UnitOfWork, *, refill_id: int, status: RefillStatus, actor: Actor, raw: str | None = None
) -> RefillRequest:
    """What the provider reports about a sent refill; never moves back, events only on change."""
    refill, line, order = await _lock_refill(uow, refill_id)
    if (
        refill.status not in OPEN_REFILL_STATES
        or status == refill.status
        or _RANK[status] < _RANK.get(refill.status, -1)
    ):
        return refill  # final already, unchanged, or an answer older than what we know
    refill.status = status
    record_event(
        uow,
        order,
        EventKind.PROVIDER,
        actor,
        line=line,
        note=Message(N_("refill %(status)s at the provider"), {"status": state_label(status)}),
        data={"refill_request_id": refill.id, "provider_refill_id": refill.provider_refill_id, **_raw(raw)},
    )
    if status == RefillStatus.COMPLETED:
        await send_refill_done(uow, order, line)
    uow.audit_changes(actor, "refill-status")
    await uow.flush()
    return refill


# -- the worker's side -------------------------------------------------------------------------------------------


@dataclass
class RefillReport:
    sent: int = 0
    refused: int = 0
    not_sent: int = 0
    changed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Open:
    refill_id: int
    order_id: int  # the refills of a batch are recorded in ascending order id (the house lock order)
    upstream_id: str  # the provider's order id (to send) or refill id (to follow)


async def _open_refills(
    session: AsyncSession, states: Sequence[RefillStatus], key: sa.orm.InstrumentedAttribute[str | None]
) -> dict[int, list[_Open]]:
    rows = await session.execute(
        sa.select(RefillRequest.id, RefillRequest.provider_id, OrderLine.order_id, key)
        .join(OrderLine, OrderLine.id == RefillRequest.order_line_id)
        .where(RefillRequest.status.in_(states), RefillRequest.provider_id.is_not(None), key.is_not(None))
        .order_by(RefillRequest.id)
        .limit(MAX_REFILLS_PER_RUN)
    )
    by_provider: dict[int, list[_Open]] = defaultdict(list)
    for refill_id, provider_id, order_id, upstream_id in rows:
        by_provider[provider_id].append(_Open(refill_id, order_id, str(upstream_id)))
    return {
        provider_id: sorted(found, key=lambda r: (r.order_id, r.refill_id))
        for provider_id, found in by_provider.items()
    }


async def _client(
    sessions: async_sessionmaker[AsyncSession], provider_id: int, timeouts: Timeouts | None
) -> SmmV2Client:
    async with sessions() as session:
        provider = await session.get_one(Provider, provider_id)
        client = await client_for(session, provider, timeouts=timeouts)
    if client is None:
        raise DomainError("provider %(name)s is worked by hand: refills are asked for in its panel", name=provider.name)
    return client


async def send_refills(sessions: async_sessionmaker[AsyncSession], *, timeouts: Timeouts | None = None) -> RefillReport:
    """Send every requested refill to its provider and record what each answered."""
    report = RefillReport()
    async with sessions() as session:
        pending = await _open_refills(session, [RefillStatus.REQUESTED], OrderLine.provider_order_id)
    for provider_id, refills in pending.items():
        answers: dict[str, RefillRequested | ItemError] = {}
        failure: str | None = None
        refused_all: ProviderError | None = None
        try:
            async with await _client(sessions, provider_id, timeouts) as client:
                answers = await client.multi_refill([refill.upstream_id for refill in refills])
        except ProviderError as exc:
            refused_all = exc
        except SmmV2Error as exc:
            answers, failure = dict(exc.partial or {}), str(exc)
        except DomainError as exc:
            failure = exc.message
        if failure:
            report.errors.append(failure)
        async with unit_of_work(sessions) as uow:
            for refill in refills:
                answer = answers.get(refill.upstream_id)
                if refused_all is not None:
                    await record_refill_refused(
                        uow, refill_id=refill.refill_id, message=refused_all.provider_message, actor=REFILLER
                    )
                    report.refused += 1
                elif isinstance(answer, RefillRequested):
                    await record_refill_sent(
                        uow,
                        refill_id=refill.refill_id,
                        provider_refill_id=answer.refill_id,
                        actor=REFILLER,
                        raw=answer.raw,
                    )
                    report.sent += 1
                elif isinstance(answer, ItemError):
                    await record_refill_refused(
                        uow, refill_id=refill.refill_id, message=answer.message, actor=REFILLER, raw=answer.raw
                    )
                    report.refused += 1
                else:
                    await record_refill_not_sent(
                        uow, refill_id=refill.refill_id, error=failure or "no answer for it", actor=REFILLER
                    )
                    report.not_sent += 1
    return report


async def follow_refills(
    sessions: async_sessionmaker[AsyncSession], *, timeouts: Timeouts | None = None
) -> RefillReport:
    """Ask the providers how sent refills are doing (``refill_status``) and record changes."""
    report = RefillReport()
    following = [state for state in OPEN_REFILL_STATES if state != RefillStatus.REQUESTED]
    async with sessions() as session:
        sent = await _open_refills(session, following, RefillRequest.provider_refill_id)
    for provider_id, refills in sent.items():
        try:
            async with await _client(sessions, provider_id, timeouts) as client:
                answers = await client.multi_refill_status([refill.upstream_id for refill in refills])
        except (SmmV2Error, DomainError) as exc:
            report.errors.append(str(exc))
            log.warning("refill status not asked", provider_id=provider_id, error=str(exc))
            continue
        async with unit_of_work(sessions) as uow:
            for refill in refills:
                answer = answers.get(refill.upstream_id)
                if not isinstance(answer, RefillState):
                    if isinstance(answer, ItemError):
                        report.errors.append(f"refill {refill.upstream_id}: {answer.message}")
                    continue
                before = await uow.session.scalar(
                    sa.select(RefillRequest.status).where(RefillRequest.id == refill.refill_id)
                )
                row = await record_refill_status(
                    uow,
                    refill_id=refill.refill_id,
                    status=UPSTREAM_REFILL_STATES[answer.status],
                    actor=REFILLER,
                    raw=answer.raw,
                )
                report.changed += int(row.status != before)
    return report
