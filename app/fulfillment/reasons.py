"""Why a line waits for a decision: the event that put it in its state (who, when, the note, the provider's words).

Read from the order's timeline (``order_event``), where the command that moved the line wrote them; shown on the
board's cards and on the confirmation page of the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import ActorKind
from app.fulfillment.decisions import ACTION_STATES, LineAction
from app.fulfillment.provider_errors import ProviderError, provider_error
from app.orders.event_notes import NOTE_KEY
from app.orders.models import OrderEvent, OrderLine
from app.orders.states import LineStatus

# Lines that wait for a person: failed (retry), on hold (resume), unknown or in review (resolve).
WAITING_FOR_DECISION = (
    ACTION_STATES[LineAction.RETRY] | ACTION_STATES[LineAction.RESUME] | ACTION_STATES[LineAction.RESOLVE]
)
ANSWER_SHOWN = 300  # characters of the provider's answer on a card or confirmation page


@dataclass(frozen=True)
class LineReason:
    """``note``: the hold reason or the error as recorded; ``answer``: the provider's last reply, as received."""

    state: LineStatus
    note: str | None
    by: str
    at: datetime
    answer: str | None = None
    sent_at: datetime | None = None  # when the last dispatch request was about to leave
    data: dict[str, Any] | None = None  # the note's catalog id and parameters (app/orders/event_notes.py)
    actor_kind: ActorKind | None = None

    @property
    def provider_error(self) -> ProviderError | None:
        return provider_error(self.note, self.data, self.actor_kind)

    @property
    def answer_shown(self) -> str | None:
        if self.answer is None or len(self.answer) <= ANSWER_SHOWN:
            return self.answer
        return self.answer[:ANSWER_SHOWN] + "…"


async def line_reasons(session: AsyncSession, line_ids: Sequence[int]) -> dict[int, LineReason]:
    """For each line waiting for a decision, the event that moved it into its state, its last dispatch and reply."""
    if not line_ids:
        return {}
    entered = (
        sa.select(
            OrderEvent.line_id,
            OrderLine.fulfillment_status,
            OrderEvent.note,
            sa.func.coalesce(OrderEvent.actor_label, sa.cast(OrderEvent.actor_kind, sa.Text)),
            OrderEvent.at,
            OrderEvent.data[NOTE_KEY],
            OrderEvent.actor_kind,
        )
        .join(
            OrderLine, sa.and_(OrderLine.id == OrderEvent.line_id, OrderEvent.to_state == OrderLine.fulfillment_status)
        )
        .where(OrderEvent.line_id.in_(line_ids), OrderLine.fulfillment_status.in_(WAITING_FOR_DECISION))
        .order_by(OrderEvent.line_id, OrderEvent.at.desc(), OrderEvent.id.desc())
        .distinct(OrderEvent.line_id)
    )
    answered = OrderEvent.data.has_key("provider_answer")
    dispatches = (
        sa.select(
            OrderEvent.line_id,
            sa.func.max(OrderEvent.at).filter(OrderEvent.to_state == LineStatus.DISPATCHING.value),
            sa.func.array_agg(
                aggregate_order_by(OrderEvent.data["provider_answer"].astext, OrderEvent.at.desc())
            ).filter(answered),
        )
        .where(OrderEvent.line_id.in_(line_ids))
        .group_by(OrderEvent.line_id)
    )
    sent = {
        line_id: (sent_at, answers[0] if answers else None)
        for line_id, sent_at, answers in await session.execute(dispatches)
    }
    reasons = {}
    for line_id, status, note, by, at, note_text, actor_kind in await session.execute(entered):
        sent_at, answer = sent.get(line_id, (None, None))
        data = {NOTE_KEY: note_text} if note_text else None
        reasons[line_id] = LineReason(LineStatus(status), note, by, at, answer, sent_at, data, actor_kind)
    return reasons
