"""The tracking page's JSON view (``GET /track/{token}`` with ``Accept: application/json``).

Money travels as strings with the currency beside them; labels are in the client's language, keys are stable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec

from app.orders.tracking import TrackingView
from app.states import label as state_label


class TrackedLine(msgspec.Struct):
    position: int
    service: str
    link: str
    quantity: int
    delivered: int | None
    remains: int | None
    start_count: int | None
    percent: int
    status: str
    label: str
    refunded: str


class TrackedRefund(msgspec.Struct):
    at: datetime
    amount: str
    currency: str
    line: int | None


class TrackedTotals(msgspec.Struct):
    net: str
    tax: str
    gross: str
    refunded: str
    currency: str


class TrackedOrder(msgspec.Struct):
    number: str
    placed_at: datetime
    status: str
    status_label: str
    payment_status: str
    live: bool
    lines: list[TrackedLine]
    refunds: list[TrackedRefund]
    totals: TrackedTotals


def tracked_order(view: TrackingView, translate: Callable[[str], str]) -> TrackedOrder:
    """The JSON view of ``view``, its labels translated with ``translate`` (the request's gettext)."""
    order = view.order
    return TrackedOrder(
        number=order.number,
        placed_at=order.created_at,
        status=order.status.value,
        status_label=state_label(order.status).render(translate),
        payment_status=order.payment_status.value,
        live=view.live,
        lines=[
            TrackedLine(
                position=line.position,
                service=line.service,
                link=line.link,
                quantity=line.quantity,
                delivered=line.delivered,
                remains=line.remains,
                start_count=line.start_count,
                percent=line.percent,
                status=line.state.value,
                label=line.label.render(translate),
                refunded=str(line.refunded),
            )
            for line in view.lines
        ],
        refunds=[
            TrackedRefund(at=refund.at, amount=str(refund.amount), currency=refund.currency, line=refund.position)
            for refund in view.refunds
        ],
        totals=TrackedTotals(
            net=str(order.net),
            tax=str(order.tax),
            gross=str(order.gross),
            refunded=str(view.refunded),
            currency=order.currency,
        ),
    )
