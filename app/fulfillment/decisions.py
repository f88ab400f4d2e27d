"""What staff may decide about a line in each state: the one table the commands check and the screens offer.

A command refuses a line outside its action's states; the board and the order page offer an action only where
its command would accept the line (``line_offers`` adds what the state alone cannot say: a provider service
that allows cancels, a service with a refill guarantee, a provider order to ask about).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Service
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.fulfillment.refill_window import REFILLABLE
from app.i18n import N_
from app.orders.models import Order, OrderLine
from app.orders.states import LineStatus


class LineAction(StrEnum):
    """A staff decision about a line (the value is the back office's action slug)."""

    HOLD = "hold-line"
    RESUME = "resume-line"
    RETRY = "retry-dispatch"
    RESOLVE = "resolve-dispatch"
    CHECK_STATUS = "check-status"
    REQUEST_CANCEL = "request-cancel"
    REQUEST_REFILL = "request-refill"
    CANCEL = "cancel-line"


AT_PROVIDER = frozenset({LineStatus.DISPATCHED, LineStatus.IN_PROGRESS})

ACTION_STATES: Mapping[LineAction, frozenset[LineStatus]] = {
    LineAction.HOLD: frozenset({LineStatus.QUEUED}),
    LineAction.RESUME: frozenset({LineStatus.ON_HOLD}),
    LineAction.RETRY: frozenset({LineStatus.FAILED}),
    LineAction.RESOLVE: frozenset({LineStatus.DISPATCH_UNKNOWN, LineStatus.NEEDS_REVIEW}),
    LineAction.CHECK_STATUS: AT_PROVIDER,
    LineAction.REQUEST_CANCEL: AT_PROVIDER,
    LineAction.REQUEST_REFILL: REFILLABLE,
    # Never sent, or refused by the provider: nothing to ask it to stop.
    LineAction.CANCEL: frozenset({LineStatus.ON_HOLD, LineStatus.FAILED}),
}


# Decisions staff take on several lines at once (the others need a look at each line).
BULK_ACTIONS = (LineAction.HOLD, LineAction.RESUME, LineAction.RETRY, LineAction.CANCEL)


def bulk_actions_for(states: frozenset[LineStatus]) -> list[LineAction]:
    """The decisions on several lines that apply to some line in ``states`` (a board queue's)."""
    return [action for action in BULK_ACTIONS if ACTION_STATES[action] & states]


def actions_for(status: LineStatus) -> list[LineAction]:
    """The actions whose commands accept a line in ``status``, in the table's order."""
    return [action for action, states in ACTION_STATES.items() if status in states]


@dataclass(frozen=True)
class Skipped:
    """A selected line the action does not apply to, and the state that rules it out."""

    line: str  # "SMP-2026-000012/1"
    state: LineStatus


@dataclass(frozen=True)
class Selection:
    """Several lines selected for one action: those it applies to (in id order) and those it skips."""

    taken: list[int]
    skipped: list[Skipped]


async def split_selection(session: AsyncSession, action: LineAction, line_ids: Sequence[int]) -> Selection:
    """Which of the selected lines ``action`` applies to by their state now; the command checks again under lock."""
    rows = await session.execute(
        sa.select(OrderLine.id, Order.number, OrderLine.position, OrderLine.fulfillment_status)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.id.in_(line_ids))
        .order_by(OrderLine.id)
    )
    taken, skipped = [], []
    for line_id, number, position, status in rows:
        if status in ACTION_STATES[action]:
            taken.append(line_id)
        else:
            skipped.append(Skipped(f"{number}/{position}", LineStatus(status)))
    return Selection(taken, skipped)


@dataclass(frozen=True)
class Offer:
    """An action for one line; ``unavailable``: why it cannot be taken now (a catalog id), None when it can."""

    action: LineAction
    unavailable: str | None = None


async def line_offers(session: AsyncSession, line_ids: Sequence[int]) -> dict[int, list[Offer]]:
    """For each line, the actions of its state, each with the reason it is unavailable for this line, if any."""
    if not line_ids:
        return {}
    rows = await session.execute(
        sa.select(
            OrderLine.id,
            OrderLine.fulfillment_status,
            OrderLine.provider_order_id,
            Service.refill_days,
            ProviderService.cancel,
            Provider.kind,
        )
        .join(Service, Service.id == OrderLine.service_id)
        .outerjoin(ProviderService, ProviderService.id == OrderLine.provider_service_id)
        .outerjoin(Provider, Provider.id == OrderLine.provider_id)
        .where(OrderLine.id.in_(line_ids))
    )
    offers: dict[int, list[Offer]] = {}
    for line_id, status, upstream_id, refill_days, cancel_allowed, provider_kind in rows:
        reasons = {
            LineAction.CHECK_STATUS: _upstream_reason(upstream_id, provider_kind),
            LineAction.REQUEST_CANCEL: _upstream_reason(upstream_id, provider_kind)
            or (None if cancel_allowed else N_("the provider's service does not allow cancels")),
            LineAction.REQUEST_REFILL: None if refill_days and refill_days > 0 else N_("the service has no refill"),
        }
        offers[line_id] = [Offer(action, reasons.get(action)) for action in actions_for(LineStatus(status))]
    return offers


def _upstream_reason(upstream_id: str | None, provider_kind: ProviderKind | None) -> str | None:
    if upstream_id is None:
        return N_("no provider order yet")
    if provider_kind == ProviderKind.MANUAL:
        return N_("fulfilled by hand: ask the provider directly")
    return None
