"""Orders: placing them, and every change of order, payment and line state (each one an event row)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.exc import IntegrityError

from app.actors import Actor
from app.catalog.models import Service, ServiceKind
from app.customers.models import Customer
from app.errors import DomainError, NotFound, ValidationFailed
from app.i18n import Message
from app.invoicing.tax import TaxDecision
from app.orders.links import normalise_link
from app.orders.models import EventKind, Order, OrderEvent, OrderLine, OrderSource, order_number_seq
from app.orders.numbers import format_order_number, order_number_year
from app.orders.pricing import line_net, order_totals
from app.orders.states import (
    ACTIVE_UPSTREAM,
    FINAL_LINE_STATES,
    FINAL_ORDER_STATES,
    LINE_TRANSITIONS,
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    LineStatus,
    OrderStatus,
    PaymentStatus,
    check_transition,
    rolled_up_order_status,
)

MAX_COMMENTS = 1000
MIN_DRIP_RUNS = 2


def new_tracking_token() -> tuple[str, str]:
    """A fresh (token, sha256 hex) pair. Only the hash is stored; the token goes into the client's link."""
    token = secrets.token_urlsafe(24)
    return token, tracking_token_hash(token)


def tracking_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LineInput:
    service: Service
    link: str
    quantity: int
    comments: str | None = None
    runs: int | None = None
    interval_minutes: int | None = None
    unit_price: Decimal | None = None  # a price override (checkout links); None = the service's price


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    tracking_token: str | None  # None when an idempotent retry returned an existing order
    created: bool


def build_line(item: LineInput, position: int) -> OrderLine:
    """Validate one item against its service and price it; raises ValidationFailed keyed by field."""
    service = item.service
    prefix = f"lines[{position - 1}]."
    errors: dict[str, str] = {}
    quantity = item.quantity
    comments = None
    if service.kind == ServiceKind.CUSTOM_COMMENTS:
        lines = [c.strip() for c in (item.comments or "").splitlines() if c.strip()]
        if not lines:
            errors[prefix + "comments"] = "enter at least one comment, one per line"
        elif len(lines) > MAX_COMMENTS:
            errors[prefix + "comments"] = f"at most {MAX_COMMENTS} comments"
        quantity = len(lines)
        comments = "\n".join(lines)
    if not service.min_quantity <= quantity <= service.max_quantity:
        errors[prefix + "quantity"] = f"must be between {service.min_quantity} and {service.max_quantity}"
    runs = interval = None
    if service.kind == ServiceKind.DRIP_FEED and item.runs is not None:
        runs, interval = item.runs, item.interval_minutes
        if runs < MIN_DRIP_RUNS:
            errors[prefix + "runs"] = f"a drip-feed needs at least {MIN_DRIP_RUNS} runs"
        if interval is None or interval < 1:
            errors[prefix + "interval_minutes"] = "enter the minutes between runs"
    try:
        link = normalise_link(service.category.platform, item.link)
    except ValueError as exc:
        errors[prefix + "link"] = str(exc)
        link = ""
    unit_price = service.price if item.unit_price is None else item.unit_price
    if unit_price < 0:
        errors[prefix + "unit_price"] = "must not be negative"
    if errors:
        raise ValidationFailed(errors)
    return OrderLine(
        position=position,
        service_id=service.id,
        service_name=service.name_en,
        service_kind=service.kind,
        link=link,
        quantity=quantity,
        comments=comments,
        runs=runs,
        interval_minutes=interval,
        unit_price=unit_price,
        net=line_net(service.kind, unit_price, quantity, runs),
        fulfillment_status=LineStatus.AWAITING_PAYMENT,
        provider_service_id=service.provider_service_id,
        provider_id=service.provider_service.provider_id if service.provider_service else None,
    )


class OrderService(SQLAlchemyAsyncRepositoryService[Order]):
    class Repo(SQLAlchemyAsyncRepository[Order]):
        model_type = Order

    repository_type = Repo

    # Where "now" comes from: replaced by demo data and tests that need a past timeline.
    clock: Callable[[], datetime] = staticmethod(lambda: datetime.now(UTC))

    @property
    def session(self) -> Any:
        return self.repository.session

    # -- placing -----------------------------------------------------------------------------------------------

    async def place_order(
        self,
        *,
        customer: Customer,
        items: Sequence[LineInput],
        source: OrderSource,
        actor: Actor,
        tax: TaxDecision,
        idempotency_key: str | None = None,
        customer_note: str | None = None,
        checkout_link_id: int | None = None,
        subscription_id: int | None = None,
    ) -> PlacedOrder:
        """Create an order awaiting payment. With an idempotency key, a repeat returns the first order."""
        if idempotency_key and (existing := await self.get_one_or_none(idempotency_key=idempotency_key)):
            return PlacedOrder(existing, None, created=False)
        if not items:
            raise ValidationFailed({"lines": "an order needs at least one line"})
        currencies = {item.service.currency for item in items}
        if len(currencies) != 1:
            raise ValidationFailed({"lines": "all lines of an order must be in one currency"})
        errors: dict[str, str | Message] = {}
        lines: list[OrderLine] = []
        for position, item in enumerate(items, start=1):
            try:
                lines.append(build_line(item, position))
            except ValidationFailed as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationFailed(errors)

        now = self.clock()
        for line in lines:
            line.created_at = line.status_changed_at = now
        totals = order_totals((line.net for line in lines), tax)
        token, token_hash = new_tracking_token()
        sequence_value = await self.session.scalar(sa.select(order_number_seq.next_value()))
        order = Order(
            number=format_order_number(order_number_year(now), int(sequence_value)),
            created_at=now,
            customer_id=customer.id,
            source=source,
            status=OrderStatus.PENDING_PAYMENT,
            payment_status=PaymentStatus.UNPAID,
            currency=currencies.pop(),
            net=totals.net,
            tax=totals.tax,
            gross=totals.gross,
            tax_rate=tax.rate,
            tax_treatment=tax.treatment,
            tracking_token_hash=token_hash,
            idempotency_key=idempotency_key,
            customer_note=customer_note,
            checkout_link_id=checkout_link_id,
            subscription_id=subscription_id,
            lines=lines,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(order)
                await self.session.flush()
        except IntegrityError:
            if idempotency_key and (existing := await self.get_one_or_none(idempotency_key=idempotency_key)):
                return PlacedOrder(existing, None, created=False)
            raise
        self.record_event(
            order,
            EventKind.CREATED,
            actor,
            to_state=OrderStatus.PENDING_PAYMENT,
            note=f"{len(lines)} line(s), {order.gross} {order.currency} gross, via {source.value}",
            data={"lines": [{"service": line.service_name, "quantity": line.quantity} for line in lines]},
        )
        await self.session.flush()
        return PlacedOrder(order, token, created=True)

    # -- reading -----------------------------------------------------------------------------------------------

    async def get_order(self, order_id: int) -> Order:
        order = await self.get_one_or_none(id=order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order

    async def lock_order(self, order_id: int) -> Order:
        """The order with its row locked until the transaction ends: every state change goes through this."""
        stmt = (
            sa.select(Order)
            .where(Order.id == order_id)
            .with_for_update(of=Order)
            .execution_options(populate_existing=True)
        )
        order: Order | None = (await self.session.scalars(stmt)).unique().one_or_none()
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order

    async def find_by_tracking_token(self, token: str) -> Order | None:
        return await self.get_one_or_none(tracking_token_hash=tracking_token_hash(token))

    async def rotate_tracking_token(self, order: Order, *, actor: Actor) -> str:
        token, token_hash = new_tracking_token()
        order.tracking_token_hash = token_hash
        self.record_event(order, EventKind.NOTE, actor, note="tracking link renewed; the previous link no longer works")
        await self.session.flush()
        return token

    async def timeline(self, order_id: int, limit: int = 200) -> Sequence[OrderEvent]:
        stmt = (
            sa.select(OrderEvent)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.at.desc(), OrderEvent.id.desc())
            .limit(limit)
        )
        events: Sequence[OrderEvent] = (await self.session.scalars(stmt)).unique().all()
        return events

    # -- transitions -------------------------------------------------------------------------------------------

    async def set_status(self, order: Order, target: OrderStatus, *, actor: Actor, note: str | None = None) -> None:
        check_transition(f"Order {order.number}", ORDER_TRANSITIONS, order.status, target)
        previous = order.status
        order.status = target
        now = self.clock()
        if target == OrderStatus.PAID:
            order.paid_at = order.paid_at or now
        if target in (
            OrderStatus.COMPLETED,
            OrderStatus.PARTIALLY_COMPLETED,
            OrderStatus.CANCELED,
            OrderStatus.EXPIRED,
        ):
            order.closed_at = now
        self.record_event(order, EventKind.STATUS, actor, from_state=previous, to_state=target, note=note)
        await self.session.flush()

    async def set_payment_status(
        self, order: Order, target: PaymentStatus, *, actor: Actor, note: str | None = None
    ) -> None:
        check_transition(f"Payment of order {order.number}", PAYMENT_TRANSITIONS, order.payment_status, target)
        previous = order.payment_status
        order.payment_status = target
        self.record_event(order, EventKind.PAYMENT_STATUS, actor, from_state=previous, to_state=target, note=note)
        await self.session.flush()

    async def set_line_status(
        self,
        order: Order,
        line: OrderLine,
        target: LineStatus,
        *,
        actor: Actor,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Move one line; starts the order's fulfillment on first dispatch and closes it when all lines end."""
        check_transition(
            f"Line {line.position} of order {order.number}", LINE_TRANSITIONS, line.fulfillment_status, target
        )
        previous = line.fulfillment_status
        line.fulfillment_status = target
        now = self.clock()
        line.status_changed_at = now
        if target == LineStatus.DISPATCHED:
            line.dispatched_at = now
        if target in FINAL_LINE_STATES:
            line.finished_at = now
            line.next_poll_at = None
        self.record_event(
            order, EventKind.LINE_STATUS, actor, line=line, from_state=previous, to_state=target, note=note, data=data
        )
        await self.session.flush()
        if target in (LineStatus.DISPATCHED, LineStatus.IN_PROGRESS) and order.status == OrderStatus.PAID:
            await self.set_status(order, OrderStatus.IN_FULFILLMENT, actor=actor, note="first line at the provider")
        await self._close_if_done(order, actor, note)

    async def _close_if_done(self, order: Order, actor: Actor, note: str | None) -> None:
        final = rolled_up_order_status([line.fulfillment_status for line in order.lines])
        if final is None or order.status not in (OrderStatus.PAID, OrderStatus.IN_FULFILLMENT):
            return
        if final != OrderStatus.CANCELED and order.status == OrderStatus.PAID:
            await self.set_status(order, OrderStatus.IN_FULFILLMENT, actor=actor)
        await self.set_status(order, final, actor=actor, note="all lines finished" + (f": {note}" if note else ""))

    # -- business actions --------------------------------------------------------------------------------------

    async def mark_paid(self, order: Order, *, actor: Actor, note: str | None = None) -> None:
        """Payment arrived: order paid, payment status paid, every line queued for dispatch."""
        await self.set_status(order, OrderStatus.PAID, actor=actor, note=note)
        await self.set_payment_status(order, PaymentStatus.PAID, actor=actor, note=note)
        for line in order.lines:
            await self.set_line_status(order, line, LineStatus.QUEUED, actor=actor)

    async def expire(self, order: Order, *, actor: Actor, note: str | None = None) -> None:
        note = note or "payment not completed in time"
        check_transition(f"Order {order.number}", ORDER_TRANSITIONS, order.status, OrderStatus.EXPIRED)
        for line in order.lines:
            await self.set_line_status(order, line, LineStatus.CANCELED, actor=actor, note=note)
        await self.set_status(order, OrderStatus.EXPIRED, actor=actor, note=note)

    async def cancel_order(self, order: Order, *, actor: Actor, reason: str) -> None:
        """Cancel every line not yet at a provider, then the order. Refunds are a separate step."""
        check_transition(f"Order {order.number}", ORDER_TRANSITIONS, order.status, OrderStatus.CANCELED)
        upstream = [line for line in order.lines if line.fulfillment_status in ACTIVE_UPSTREAM]
        if upstream:
            positions = ", ".join(str(line.position) for line in upstream)
            raise DomainError(
                f"Order {order.number} has line(s) {positions} at the provider; "
                "request a cancel at the provider or wait for them to finish"
            )
        if not reason.strip():
            raise ValidationFailed({"reason": "say why the order is canceled"})
        open_lines = [line for line in order.lines if line.fulfillment_status not in FINAL_LINE_STATES]
        for line in open_lines:
            await self.set_line_status(order, line, LineStatus.CANCELED, actor=actor, note=reason)
        if order.status not in FINAL_ORDER_STATES:
            # Lines finished earlier (completed/partial) keep what was delivered; the order closes now.
            await self.set_status(order, OrderStatus.CANCELED, actor=actor, note=reason)

    async def hold_line(self, order: Order, line: OrderLine, *, actor: Actor, reason: str) -> None:
        await self.set_line_status(order, line, LineStatus.ON_HOLD, actor=actor, note=reason or "held by staff")

    async def resume_line(self, order: Order, line: OrderLine, *, actor: Actor, note: str | None = None) -> None:
        if line.fulfillment_status != LineStatus.ON_HOLD:
            raise DomainError(f"Line {line.position} of order {order.number} is {line.fulfillment_status}, not on hold")
        await self.set_line_status(order, line, LineStatus.QUEUED, actor=actor, note=note or "resumed")

    async def add_note(self, order: Order, *, actor: Actor, note: str) -> OrderEvent:
        text = note.strip()
        if not text:
            raise ValidationFailed({"note": "the note is empty"})
        event = self.record_event(order, EventKind.NOTE, actor, note=text)
        await self.session.flush()
        return event

    def line_of(self, order: Order, line_id: int) -> OrderLine:
        for line in order.lines:
            if line.id == line_id:
                return line
        raise NotFound(f"order {order.number} has no line {line_id}")

    # -- events ------------------------------------------------------------------------------------------------

    def record_event(
        self,
        order: Order,
        kind: EventKind,
        actor: Actor,
        *,
        line: OrderLine | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> OrderEvent:
        event = OrderEvent(
            order_id=order.id,
            line_id=line.id if line is not None else None,
            kind=kind,
            from_state=str(from_state) if from_state is not None else None,
            to_state=str(to_state) if to_state is not None else None,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            note=note,
            data=data,
            at=self.clock(),
        )
        self.session.add(event)
        return event
