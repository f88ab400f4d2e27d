"""The order, payment and fulfillment state machines (see docs/architecture.md, "State machines").

Each machine is an enum, a table of what each state means (label, badge, board queue, final) and a map of the
states it may move to. Anything not in the map raises InvalidTransition.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from app.i18n import N_
from app.states import StateInfo, check_transition, finals, register

__all__ = [
    "ACTIVE_UPSTREAM",
    "FINAL_LINE_STATES",
    "FINAL_ORDER_STATES",
    "LINE_STATES",
    "LINE_TRANSITIONS",
    "ORDER_STATES",
    "ORDER_TRANSITIONS",
    "PAYMENT_STATES",
    "PAYMENT_TRANSITIONS",
    "LineStatus",
    "OrderStatus",
    "PaymentStatus",
    "check_transition",
    "rolled_up_order_status",
]


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


ORDER_STATES: Mapping[OrderStatus, StateInfo] = register(
    {
        OrderStatus.PENDING_PAYMENT: StateInfo(N_("pending payment"), "yellow", final=False, queue=None),
        OrderStatus.PAID: StateInfo(N_("paid"), "blue", final=False, queue=None),
        OrderStatus.IN_FULFILLMENT: StateInfo(N_("in fulfillment"), "azure", final=False, queue=None),
        OrderStatus.COMPLETED: StateInfo(N_("completed"), "green", final=True, queue=None),
        OrderStatus.PARTIALLY_COMPLETED: StateInfo(N_("partially completed"), "lime", final=True, queue=None),
        OrderStatus.CANCELED: StateInfo(N_("canceled"), "secondary", final=True, queue=None),
        OrderStatus.EXPIRED: StateInfo(N_("expired"), "secondary", final=True, queue=None),
    }
)

PAYMENT_STATES: Mapping[PaymentStatus, StateInfo] = register(
    {
        PaymentStatus.UNPAID: StateInfo(N_("unpaid"), "yellow", final=False, queue=None),
        PaymentStatus.PAID: StateInfo(N_("paid"), "blue", final=False, queue=None),
        PaymentStatus.PARTIALLY_REFUNDED: StateInfo(N_("partially refunded"), "orange", final=False, queue=None),
        PaymentStatus.REFUNDED: StateInfo(N_("refunded"), "purple", final=True, queue=None),
        PaymentStatus.DISPUTED: StateInfo(N_("disputed"), "red", final=False, queue=None),
    }
)

# Board queues (app/fulfillment/queues.py defines their titles and hints); "stuck" is computed, not a state.
QUEUED, DISPATCHING, NEEDS_REVIEW, ON_HOLD, FAILED, DELIVERING = (
    "queued",
    "dispatching",
    "needs_review",
    "on_hold",
    "failed",
    "in_progress",
)

LINE_STATES: Mapping[LineStatus, StateInfo] = register(
    {
        LineStatus.AWAITING_PAYMENT: StateInfo(N_("awaiting payment"), "yellow", final=False, queue=None),
        LineStatus.QUEUED: StateInfo(N_("queued"), "blue", final=False, queue=QUEUED),
        LineStatus.DISPATCHING: StateInfo(N_("dispatching"), "cyan", final=False, queue=DISPATCHING),
        LineStatus.DISPATCHED: StateInfo(N_("dispatched"), "azure", final=False, queue=DELIVERING),
        LineStatus.IN_PROGRESS: StateInfo(N_("in progress"), "azure", final=False, queue=DELIVERING),
        LineStatus.COMPLETED: StateInfo(N_("completed"), "green", final=True, queue=None),
        LineStatus.PARTIAL: StateInfo(N_("partial"), "lime", final=True, queue=None),
        LineStatus.CANCELED: StateInfo(N_("canceled"), "secondary", final=True, queue=None),
        LineStatus.ON_HOLD: StateInfo(N_("on hold"), "orange", final=False, queue=ON_HOLD),
        LineStatus.DISPATCH_UNKNOWN: StateInfo(N_("dispatch unknown"), "red", final=False, queue=NEEDS_REVIEW),
        LineStatus.NEEDS_REVIEW: StateInfo(N_("needs review"), "red", final=False, queue=NEEDS_REVIEW),
        LineStatus.FAILED: StateInfo(N_("failed"), "red", final=False, queue=FAILED),
    }
)

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

# Lines whose request may be at the provider: only one such line per link + provider service at a time
# (the partial unique index uq_order_line_active_upstream is built from this set).
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

FINAL_LINE_STATES: frozenset[LineStatus] = finals(LINE_STATES)
FINAL_ORDER_STATES: frozenset[OrderStatus] = finals(ORDER_STATES)


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
