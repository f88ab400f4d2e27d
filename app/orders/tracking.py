"""What the client's tracking page says about an order: per line progress and status in plain words, its
estimated start and finish (``app/orders/eta.py``) and refill, the client-visible timeline (payment, starts,
deliveries, refunds; internal notes and provider detail never) and the order's invoices and credit notes.

Pure functions over loaded rows (:func:`tracking_view`) and one query helper (:func:`tracking_facts`); the page
and its JSON view (``storefront/tracking.py``) render the same :class:`TrackingView`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from app import i18n
from app.fulfillment.models import RefillRequest
from app.i18n import N_, Message
from app.invoicing.models import Invoice
from app.invoicing.services import invoices_of_order
from app.orders.eta import LineEta, eta_texts, line_eta
from app.orders.models import EventKind, Order, OrderEvent, OrderLine
from app.orders.states import LineStatus, OrderStatus
from app.orders.tracking_documents import ClientDocument, client_documents
from app.orders.tracking_refills import LineRefill, latest_refills, line_refill
from app.payments.models import Payment, Refund, RefundStatus

ZERO = Decimal("0.00")
LINK_SHOWN = 48  # characters of a line's link shown before it is shortened with an ellipsis


class ClientState(StrEnum):
    """A line's state as the client sees it: internal troubles (hold, review, unknown dispatch) are one calm state."""

    WAITING_PAYMENT = "waiting_payment"
    QUEUED = "queued"
    STARTED = "started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PARTIAL = "partial"
    CANCELED = "canceled"
    ON_IT = "on_it"


CLIENT_STATES: dict[LineStatus, ClientState] = {
    LineStatus.AWAITING_PAYMENT: ClientState.WAITING_PAYMENT,
    LineStatus.QUEUED: ClientState.QUEUED,
    LineStatus.DISPATCHING: ClientState.QUEUED,
    LineStatus.DISPATCHED: ClientState.STARTED,
    LineStatus.IN_PROGRESS: ClientState.IN_PROGRESS,
    LineStatus.COMPLETED: ClientState.COMPLETED,
    LineStatus.PARTIAL: ClientState.PARTIAL,
    LineStatus.CANCELED: ClientState.CANCELED,
    LineStatus.ON_HOLD: ClientState.ON_IT,
    LineStatus.DISPATCH_UNKNOWN: ClientState.ON_IT,
    LineStatus.NEEDS_REVIEW: ClientState.ON_IT,
    LineStatus.FAILED: ClientState.ON_IT,
}

# The design system's badge classes (app/static/smplat.css).
TONES: dict[ClientState, str] = {
    ClientState.WAITING_PAYMENT: "badge-warning",
    ClientState.QUEUED: "badge",
    ClientState.STARTED: "badge",
    ClientState.IN_PROGRESS: "badge",
    ClientState.COMPLETED: "badge-success",
    ClientState.PARTIAL: "badge-success",
    ClientState.CANCELED: "badge-warning",
    ClientState.ON_IT: "badge",
}

# While any line is in one of these, the page keeps asking for news.
LIVE_STATES = frozenset(
    {ClientState.QUEUED, ClientState.STARTED, ClientState.IN_PROGRESS, ClientState.ON_IT, ClientState.WAITING_PAYMENT}
)


@dataclass(frozen=True)
class LineProgress:
    position: int
    service: str
    link: str
    link_short: str
    quantity: int
    delivered: int | None  # None: the provider has not reported yet
    remains: int | None
    start_count: int | None
    percent: int  # 0..100, for the bar
    state: ClientState
    label: Message
    tone: str
    refunded: Decimal
    eta: LineEta | None
    eta_texts: list[Message]
    refill: LineRefill


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: Message


@dataclass(frozen=True)
class RefundEntry:
    at: datetime
    amount: Decimal
    currency: str
    position: int | None  # the line refunded; None for a refund of the whole payment made at the processor


@dataclass(frozen=True)
class TrackingView:
    order: Order
    lines: list[LineProgress]
    timeline: list[TimelineEntry]
    refunds: list[RefundEntry]
    refunded: Decimal
    live: bool
    documents: list[ClientDocument]


@dataclass(frozen=True)
class TrackingFacts:
    events: Sequence[OrderEvent]
    refunds: Sequence[Refund]
    invoices: Sequence[Invoice]
    refills: dict[int, RefillRequest]  # the newest per line id


def shorten_link(link: str, limit: int = LINK_SHOWN) -> str:
    """The link without its scheme and ``www.``, cut to ``limit`` characters with an ellipsis."""
    text = link.split("://", 1)[-1].removeprefix("www.").rstrip("/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def delivered_of(line: OrderLine) -> int | None:
    """Delivered so far: quantity minus remains as the provider reported; all of it once completed."""
    if line.fulfillment_status == LineStatus.COMPLETED and line.remains is None:
        return line.quantity
    if line.remains is None:
        return None
    return max(0, min(line.quantity, line.quantity - line.remains))


def percent_of(delivered: int | None, quantity: int) -> int:
    if not delivered or quantity <= 0:
        return 0
    return max(0, min(100, delivered * 100 // quantity))


def line_wording(
    status: LineStatus, *, quantity: int, delivered: int | None, refunded: Decimal, currency: str, locale: str
) -> tuple[ClientState, Message]:
    """The client's state of a line and its status in plain words (numbers formatted for ``locale``)."""
    state = CLIENT_STATES[status]
    if state == ClientState.IN_PROGRESS and not delivered:
        state = ClientState.STARTED
    if state == ClientState.STARTED and delivered:
        state = ClientState.IN_PROGRESS
    if state == ClientState.IN_PROGRESS:
        return state, Message(
            N_("In progress — %(delivered)s of %(quantity)s delivered"),
            {"delivered": i18n.format_number(delivered, locale), "quantity": i18n.format_number(quantity, locale)},
        )
    if state == ClientState.PARTIAL:
        if refunded > ZERO:
            amount = i18n.format_money(refunded, currency, locale)
            return state, Message(N_("Partially delivered — refund of %(amount)s"), {"amount": amount})
        return state, Message(N_("Partially delivered — the undelivered part is being refunded"))
    if state == ClientState.CANCELED and refunded > ZERO:
        amount = i18n.format_money(refunded, currency, locale)
        return state, Message(N_("Canceled — %(amount)s refunded"), {"amount": amount})
    return state, Message(PLAIN_WORDS[state])


PLAIN_WORDS: dict[ClientState, str] = {
    ClientState.WAITING_PAYMENT: N_("Waiting for payment"),
    ClientState.QUEUED: N_("Queued"),
    ClientState.STARTED: N_("Started"),
    ClientState.COMPLETED: N_("Completed"),
    ClientState.CANCELED: N_("Canceled"),
    ClientState.ON_IT: N_("We are on it — delivery continues shortly"),
}


def line_progress(
    line: OrderLine,
    *,
    paid_at: datetime | None,
    refunded: Decimal,
    currency: str,
    locale: str,
    latest_refill: RefillRequest | None,
    now: datetime,
) -> LineProgress:
    delivered = delivered_of(line)
    eta = line_eta(
        status=line.fulfillment_status,
        quantity=line.quantity,
        remains=line.remains,
        paid_at=paid_at,
        dispatched_at=line.dispatched_at,
        start_hours=line.service.expected_start_hours,
        speed_per_day=line.service.speed_per_day,
        now=now,
    )
    state, label = line_wording(
        line.fulfillment_status,
        quantity=line.quantity,
        delivered=delivered,
        refunded=refunded,
        currency=currency,
        locale=locale,
    )
    return LineProgress(
        position=line.position,
        service=line.service.name(locale),
        link=line.link,
        link_short=shorten_link(line.link),
        quantity=line.quantity,
        delivered=delivered,
        remains=line.remains,
        start_count=line.start_count,
        percent=percent_of(delivered, line.quantity),
        state=state,
        label=label,
        tone=TONES[state],
        refunded=refunded,
        eta=eta,
        eta_texts=[] if eta is None else eta_texts(eta, now, locale),
        refill=line_refill(line, line.service.refill_days, latest_refill, now),
    )


ORDER_MOMENTS: dict[str, str] = {
    OrderStatus.PAID: N_("Payment received"),
    OrderStatus.COMPLETED: N_("Order completed"),
    OrderStatus.PARTIALLY_COMPLETED: N_("Order finished, partly delivered"),
    OrderStatus.CANCELED: N_("Order canceled"),
    OrderStatus.EXPIRED: N_("Order expired without payment"),
}
LINE_MOMENTS: dict[str, str] = {
    LineStatus.DISPATCHED: N_("Started: %(service)s"),
    LineStatus.COMPLETED: N_("Delivered: %(service)s"),
    LineStatus.PARTIAL: N_("Partly delivered: %(service)s"),
    LineStatus.CANCELED: N_("Canceled: %(service)s"),
}


def client_timeline(
    events: Sequence[OrderEvent], refunds: Sequence[RefundEntry], services: dict[int, str], locale: str
) -> list[TimelineEntry]:
    """Client-visible moments, oldest first: placed, paid, each line's start and end, refunds with amounts.

    A line started again after a review is shown started once; notes, provider replies and holds never appear.
    """
    entries: list[TimelineEntry] = []
    started: set[int] = set()
    for event in events:
        text: Message | None = None
        if event.kind == EventKind.CREATED:
            text = Message(N_("Order placed"))
        elif event.kind == EventKind.STATUS and event.to_state in ORDER_MOMENTS:
            text = Message(ORDER_MOMENTS[event.to_state])
        elif event.kind == EventKind.LINE_STATUS and event.line_id in services and event.to_state in LINE_MOMENTS:
            if event.to_state == LineStatus.DISPATCHED:
                if event.line_id in started:
                    continue
                started.add(event.line_id)
            text = Message(LINE_MOMENTS[event.to_state], {"service": services[event.line_id]})
        if text is not None:
            entries.append(TimelineEntry(at=event.at, text=text))
    for refund in refunds:
        amount = i18n.format_money(refund.amount, refund.currency, locale)
        entries.append(TimelineEntry(at=refund.at, text=Message(N_("Refund of %(amount)s"), {"amount": amount})))
    return sorted(entries, key=lambda entry: entry.at)


async def tracking_facts(session: AsyncSession, order_id: int, limit: int = 500) -> TrackingFacts:
    """The order's events (oldest first), its succeeded refunds, invoices and the lines' refills: four queries."""
    events = (
        (
            await session.scalars(
                sa.select(OrderEvent)
                .where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.at, OrderEvent.id)
                .limit(limit)
                .options(raiseload(OrderEvent.line))  # the lines are the order's: not joined again per event
            )
        )
        .unique()
        .all()
    )
    refunds = (
        await session.scalars(
            sa.select(Refund)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Payment.order_id == order_id, Refund.status == RefundStatus.SUCCEEDED)
            .order_by(Refund.updated_at, Refund.id)
        )
    ).all()
    return TrackingFacts(
        events=events,
        refunds=refunds,
        invoices=await invoices_of_order(session, order_id),
        refills=await latest_refills(session, order_id),
    )


def tracking_view(order: Order, facts: TrackingFacts, locale: str, now: datetime) -> TrackingView:
    positions = {line.id: line.position for line in order.lines}
    refunds = [
        RefundEntry(at=r.updated_at, amount=r.amount, currency=r.currency, position=positions.get(r.order_line_id or 0))
        for r in facts.refunds
    ]
    per_line: dict[int, Decimal] = {}
    for refund in facts.refunds:
        if refund.order_line_id is not None:
            per_line[refund.order_line_id] = per_line.get(refund.order_line_id, ZERO) + refund.amount
    lines = [
        line_progress(
            line,
            paid_at=order.paid_at,
            refunded=per_line.get(line.id, ZERO),
            currency=order.currency,
            locale=locale,
            latest_refill=facts.refills.get(line.id),
            now=now,
        )
        for line in order.lines
    ]
    services = {line.id: line.service.name(locale) for line in order.lines}
    live = order.status not in (OrderStatus.EXPIRED, OrderStatus.CANCELED) and any(
        line.state in LIVE_STATES for line in lines
    )
    return TrackingView(
        order=order,
        lines=lines,
        timeline=client_timeline(facts.events, refunds, services, locale),
        refunds=refunds,
        refunded=sum((r.amount for r in refunds), ZERO),
        live=live,
        documents=client_documents(facts.invoices),
    )
