"""How long a delivered line may be refilled: the one rule staff's action and the client's button share."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.orders.models import OrderLine
from app.orders.states import LineStatus

REFILLABLE = frozenset({LineStatus.COMPLETED, LineStatus.PARTIAL})


def window_end(line: OrderLine, refill_days: int) -> datetime:
    """The end of the line's refill window: ``refill_days`` after it finished."""
    return (line.finished_at or line.updated_at) + timedelta(days=refill_days)


def refill_open_until(line: OrderLine, refill_days: int, now: datetime) -> datetime | None:
    """The end of the window if a refill may be requested at ``now`` (delivered, guaranteed, placed upstream)."""
    if line.fulfillment_status not in REFILLABLE or refill_days <= 0:
        return None
    if line.provider_order_id is None or line.provider_id is None:
        return None
    end = window_end(line, refill_days)
    return end if now <= end else None
