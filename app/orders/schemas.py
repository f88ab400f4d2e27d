"""The tracking page's JSON view (``GET /track/{token}`` with ``Accept: application/json``).

Money travels as strings with the currency beside them; labels are in the client's language, keys are stable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec

from app.orders.tracking import LineProgress, TrackingView
from app.states import label as state_label


class TrackedEta(msgspec.Struct):
    start_within_hours: int | None
    starts_by: datetime | None
    finishes_around: datetime | None
    late: bool
    texts: list[str]


class TrackedRefill(msgspec.Struct):
    open_until: datetime | None
    status: str | None
    label: str | None


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
    eta: TrackedEta | None
    refill: TrackedRefill


class TrackedRefund(msgspec.Struct):
    at: datetime
    amount: str
    currency: str
    line: int | None


class TrackedDocument(msgspec.Struct):
    number: str
    kind: str
    issued_at: datetime
    gross: str
    currency: str
    url: str | None  # None while the PDF is being prepared


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
    documents: list[TrackedDocument]


def tracked_eta(line: LineProgress, translate: Callable[[str], str]) -> TrackedEta | None:
    if line.eta is None:
        return None
    return TrackedEta(
        start_within_hours=line.eta.start_within_hours,
        starts_by=line.eta.starts_by,
        finishes_around=line.eta.finishes_around,
        late=line.eta.late,
        texts=[text.render(translate) for text in line.eta_texts],
    )


def tracked_refill(line: LineProgress, translate: Callable[[str], str]) -> TrackedRefill:
    refill = line.refill
    return TrackedRefill(
        open_until=refill.open_until,
        status=None if refill.status is None else refill.status.value,
        label=None if refill.label is None else refill.label.render(translate),
    )


def tracked_order(view: TrackingView, translate: Callable[[str], str], documents_url: str) -> TrackedOrder:
    """The JSON view of ``view``, its labels translated with ``translate`` (the request's gettext); a ready
    document's download is at ``documents_url`` + its file name."""
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
                eta=tracked_eta(line, translate),
                refill=tracked_refill(line, translate),
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
        documents=[
            TrackedDocument(
                number=document.number,
                kind=document.kind.value,
                issued_at=document.issued_at,
                gross=str(document.gross),
                currency=document.currency,
                url=documents_url + document.filename if document.ready else None,
            )
            for document in view.documents
        ],
    )
