"""Cancels at the provider: staff ask for one on lines at the provider, a job sends it (API v2 ``cancel``).

Only lines whose provider service allows cancels, dispatched or in progress, with the provider's order id. The
request is recorded in the order's timeline and the ``send_cancel`` job deferred in the same unit of work; the
job records the provider's answer. An accepted cancel is not the end: the line becomes ``canceled`` when status
polling reports it so (and polling refunds what was not delivered), so the line is polled again right away.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.actors import Actor
from app.errors import Conflict, DomainError
from app.fulfillment.commands import RAW_ANSWER_LIMIT
from app.fulfillment.decisions import ACTION_STATES, LineAction
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.i18n import N_
from app.orders.lifecycle import line_subject, lock_lines, record_event
from app.orders.models import EventKind, Order, OrderLine
from app.providers.clients import client_for
from app.providers.smm_v2 import (
    CancelRequested,
    ItemError,
    NotSent,
    ProviderError,
    SmmV2Client,
    SmmV2Error,
    Timeouts,
)
from app.states import label as state_label
from app.uow import UnitOfWork, unit_of_work

SEND_CANCEL_TASK = "fulfillment.send_cancel"
CANCELABLE = ACTION_STATES[LineAction.REQUEST_CANCEL]
CANCELER = Actor.worker("cancels")


def cancel_lock(line_id: int) -> str:
    return f"cancel-line-{line_id}"


async def request_cancel(uow: UnitOfWork, *, line_ids: Sequence[int], actor: Actor) -> list[tuple[Order, OrderLine]]:
    """Ask the provider to cancel lines it is working on; the worker sends the request."""
    locked = await lock_lines(uow, line_ids)
    for order, line in locked:
        await _check_cancelable(uow, order, line)
    for order, line in locked:
        try:
            async with uow.session.begin_nested():
                await uow.defer(
                    SEND_CANCEL_TASK, {"line_id": line.id}, queue="fulfillment", queueing_lock=cancel_lock(line.id)
                )
        except IntegrityError as exc:
            raise Conflict(
                N_("%(line)s: a cancel is already on its way to the provider"), line=line_subject(order, line)
            ) from exc
        record_event(uow, order, EventKind.PROVIDER, actor, line=line, note=N_("cancel requested at the provider"))
        uow.audit(actor, "request-cancel", "order-line", line.id, details={"order": order.number})
    await uow.flush()
    return locked


async def _check_cancelable(uow: UnitOfWork, order: Order, line: OrderLine) -> None:
    subject = line_subject(order, line)
    if line.fulfillment_status not in CANCELABLE:
        raise DomainError(
            N_("%(line)s is %(state)s; only lines at the provider (dispatched, in progress) can be canceled there"),
            line=subject,
            state=state_label(line.fulfillment_status),
        )
    upstream = await uow.session.get(ProviderService, line.provider_service_id) if line.provider_service_id else None
    provider = await uow.session.get(Provider, line.provider_id) if line.provider_id else None
    if line.provider_order_id is None or upstream is None or provider is None:
        raise DomainError(N_("%(line)s has no provider order to cancel"), line=subject)
    if provider.kind == ProviderKind.MANUAL:
        raise DomainError(N_("%(line)s is fulfilled by hand: cancel it with the provider directly"), line=subject)
    if not upstream.cancel:
        raise DomainError(
            N_("%(line)s: the provider does not allow cancels for its service %(service)s"),
            line=subject,
            service=upstream.name,
        )


async def record_cancel_answer(
    uow: UnitOfWork, *, line_id: int, actor: Actor, accepted: bool, message: str | None = None, raw: str | None = None
) -> OrderLine:
    """What the provider answered to the cancel, in the order's timeline; an accepted cancel is polled at once."""
    ((order, line),) = await lock_lines(uow, [line_id])
    data = {"provider_answer": raw[:RAW_ANSWER_LIMIT]} if raw else None
    if accepted:
        note = "the provider accepted the cancel; the line ends canceled when the provider reports it"
        if line.fulfillment_status in CANCELABLE:
            line.next_poll_at = uow.now()
    else:
        note = f"the provider refused the cancel: {message}"
    record_event(uow, order, EventKind.PROVIDER, actor, line=line, note=note, data=data)
    uow.audit(actor, "cancel-at-provider", "order-line", line.id, details={"accepted": accepted, "message": message})
    await uow.flush()
    return line


async def send_cancel(
    sessions: async_sessionmaker[AsyncSession], line_id: int, *, timeouts: Timeouts | None = None
) -> str:
    """The job's work: ``cancel`` for the line's provider order. Raises NotSent (the job retries) when it never left."""
    async with sessions() as session:
        line = await session.get_one(OrderLine, line_id)
        if line.fulfillment_status not in CANCELABLE or line.provider_order_id is None or line.provider_id is None:
            return f"not sent: the line is {line.fulfillment_status}"
        upstream_id = line.provider_order_id
        provider = await session.get_one(Provider, line.provider_id)
        client = await client_for(session, provider, timeouts=timeouts)
    if client is None:
        return "not sent: worked by hand"
    accepted, message, raw = await _ask(client, upstream_id)
    async with unit_of_work(sessions) as uow:
        await record_cancel_answer(uow, line_id=line_id, actor=CANCELER, accepted=accepted, message=message, raw=raw)
    return "accepted" if accepted else f"refused: {message}"


async def _ask(api: SmmV2Client, upstream_id: str) -> tuple[bool, str | None, str | None]:
    """(accepted, the provider's refusal, its raw answer); NotSent propagates (nothing reached the provider)."""
    async with api as client:
        try:
            answers = await client.cancel([upstream_id])
        except NotSent:
            raise
        except ProviderError as exc:
            return False, exc.provider_message, exc.raw
        except SmmV2Error as exc:
            return False, f"no usable answer ({exc}); check the provider's panel", exc.raw
    answer = answers.get(upstream_id)
    if isinstance(answer, CancelRequested):
        return True, None, answer.raw
    if isinstance(answer, ItemError):
        return False, answer.message, answer.raw
    return False, "the provider did not answer for this order", None
