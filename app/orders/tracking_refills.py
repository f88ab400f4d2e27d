"""A delivered line's refill as the client sees it: the button while the window is open and no refill is under
way, and the latest refill's status in four plain words (requested, sent, done, refused)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfillment.models import OPEN_REFILL_STATES, RefillRequest, RefillStatus
from app.fulfillment.refill_window import refill_open_until
from app.i18n import N_, Message
from app.orders.models import OrderLine


class ClientRefill(StrEnum):
    REQUESTED = "requested"
    SENT = "sent"
    DONE = "done"
    REFUSED = "refused"


CLIENT_REFILLS: dict[RefillStatus, ClientRefill] = {
    RefillStatus.REQUESTED: ClientRefill.REQUESTED,
    RefillStatus.SENT: ClientRefill.SENT,
    RefillStatus.IN_PROGRESS: ClientRefill.SENT,
    RefillStatus.COMPLETED: ClientRefill.DONE,
    RefillStatus.REJECTED: ClientRefill.REFUSED,
    RefillStatus.FAILED: ClientRefill.REFUSED,
}
REFILL_WORDS: dict[ClientRefill, str] = {
    ClientRefill.REQUESTED: N_("Refill requested — we pass it on to delivery"),
    ClientRefill.SENT: N_("Refill on its way"),
    ClientRefill.DONE: N_("Refill done"),
    ClientRefill.REFUSED: N_("Refill not possible this time — please write to us"),
}


@dataclass(frozen=True)
class LineRefill:
    open_until: datetime | None  # the client may ask for a refill until then (None: no button)
    status: ClientRefill | None  # the latest refill's status (None: never asked)
    label: Message | None


def line_refill(line: OrderLine, refill_days: int, latest: RefillRequest | None, now: datetime) -> LineRefill:
    """The button (window open and nothing under way) and the latest refill's status of ``line`` at ``now``."""
    under_way = latest is not None and latest.status in OPEN_REFILL_STATES
    open_until = None if under_way else refill_open_until(line, refill_days, now)
    if latest is None:
        return LineRefill(open_until=open_until, status=None, label=None)
    status = CLIENT_REFILLS[latest.status]
    return LineRefill(open_until=open_until, status=status, label=Message(REFILL_WORDS[status]))


async def latest_refills(session: AsyncSession, order_id: int) -> dict[int, RefillRequest]:
    """The newest refill request of each line of the order that has one (one query)."""
    rows: Sequence[RefillRequest] = (
        await session.scalars(
            sa.select(RefillRequest)
            .join(OrderLine, OrderLine.id == RefillRequest.order_line_id)
            .where(OrderLine.order_id == order_id)
            .order_by(RefillRequest.id)
        )
    ).all()
    return {refill.order_line_id: refill for refill in rows}
