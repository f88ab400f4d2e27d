"""The order, payment and fulfillment state machines (see ARCHITECTURE "State machines").

Each map lists, for every state, the states it may move to. Anything else raises InvalidTransition.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from app.errors import InvalidTransition


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    IN_FULFILLMENT = "in_fulfillment"
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    CANCELED = "canceled"
    EXPIRED = "expired"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


class LineStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    QUEUED = "queued"
    DISPATCHING = "dispatching"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PARTIAL = "partial"
    CANCELED = "canceled"
    ON_HOLD = "on_hold"
    DISPATCH_UNKNOWN = "dispatch_unknown"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.EXPIRED, OrderStatus.CANCELED}),
    OrderStatus.PAID: frozenset({OrderStatus.IN_FULFILLMENT, OrderStatus.CANCELED}),
    OrderStatus.IN_FULFILLMENT: frozenset(
        {OrderStatus.COMPLETED, OrderStatus.PARTIALLY_COMPLETED, OrderStatus.CANCELED}
    ),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.PARTIALLY_COMPLETED: frozenset(),
    OrderStatus.CANCELED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}

PAYMENT_TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.UNPAID: frozenset({PaymentStatus.PAID}),
    PaymentStatus.PAID: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED, PaymentStatus.DISPUTED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset(
        {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED, PaymentStatus.DISPUTED}
    ),
    PaymentStatus.REFUNDED: frozenset(),
    # A dispute is won (money stays: back to paid or partially refunded) or lost (refunded).
    PaymentStatus.DISPUTED: frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
}

# Lines whose request may be at the provider: only one such line per link + provider service at a time.
ACTIVE_UPSTREAM: frozenset[LineStatus] = frozenset(
    {
        LineStatus.DISPATCHING,
        LineStatus.DISPATCHED,
        LineStatus.IN_PROGRESS,
        LineStatus.DISPATCH_UNKNOWN,
        LineStatus.NEEDS_REVIEW,
    }
)

LINE_TRANSITIONS: Mapping[LineStatus, frozenset[LineStatus]] = {
    LineStatus.AWAITING_PAYMENT: frozenset({LineStatus.QUEUED, LineStatus.CANCELED}),
    LineStatus.QUEUED: frozenset({LineStatus.DISPATCHING, LineStatus.ON_HOLD, LineStatus.CANCELED}),
    LineStatus.DISPATCHING: frozenset(
        {
            LineStatus.DISPATCHED,
            LineStatus.DISPATCH_UNKNOWN,
            LineStatus.QUEUED,  # the request never left (connection refused): retried with backoff
            LineStatus.ON_HOLD,  # provider reports low balance
            LineStatus.FAILED,  # definitive provider error
        }
    ),
    LineStatus.DISPATCHED: frozenset(
        {LineStatus.IN_PROGRESS, LineStatus.COMPLETED, LineStatus.PARTIAL, LineStatus.CANCELED}
    ),
    LineStatus.IN_PROGRESS: frozenset({LineStatus.COMPLETED, LineStatus.PARTIAL, LineStatus.CANCELED}),
    LineStatus.DISPATCH_UNKNOWN: frozenset(
        {LineStatus.DISPATCHED, LineStatus.NEEDS_REVIEW, LineStatus.QUEUED, LineStatus.CANCELED}
    ),
    LineStatus.NEEDS_REVIEW: frozenset({LineStatus.DISPATCHED, LineStatus.QUEUED, LineStatus.CANCELED}),
    LineStatus.ON_HOLD: frozenset({LineStatus.QUEUED, LineStatus.CANCELED}),
    LineStatus.FAILED: frozenset({LineStatus.QUEUED, LineStatus.CANCELED}),
    LineStatus.COMPLETED: frozenset(),
    LineStatus.PARTIAL: frozenset(),
    LineStatus.CANCELED: frozenset(),
}

FINAL_LINE_STATES: frozenset[LineStatus] = frozenset(s for s, targets in LINE_TRANSITIONS.items() if not targets)
FINAL_ORDER_STATES: frozenset[OrderStatus] = frozenset(s for s, targets in ORDER_TRANSITIONS.items() if not targets)

S = TypeVar("S", bound=StrEnum)


def check_transition(subject: str, transitions: Mapping[S, frozenset[S]], current: S, target: S) -> None:
    """Raise InvalidTransition unless ``current -> target`` is in the map."""
    allowed = transitions[current]
    if target not in allowed:
        raise InvalidTransition(subject, str(current), str(target), {str(s) for s in allowed})


def rolled_up_order_status(line_states: list[LineStatus]) -> OrderStatus | None:
    """The final order status once every line is final, else None.

    All canceled -> canceled; all completed -> completed; any other mix of final states -> partially completed.
    """
    if not line_states or any(state not in FINAL_LINE_STATES for state in line_states):
        return None
    if all(state == LineStatus.CANCELED for state in line_states):
        return OrderStatus.CANCELED
    if all(state == LineStatus.COMPLETED for state in line_states):
        return OrderStatus.COMPLETED
    return OrderStatus.PARTIALLY_COMPLETED
