"""Fulfillment decisions staff take on order lines: retries, resolving unknown dispatches, refills."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from app.actors import Actor
from app.errors import Conflict, DomainError, ValidationFailed
from app.fulfillment.models import RefillRequest
from app.orders.models import EventKind, Order, OrderLine
from app.orders.services import OrderService
from app.orders.states import LineStatus

UPSTREAM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FulfillmentService:
    def __init__(self, orders: OrderService) -> None:
        self.orders = orders
        self.session = orders.session

    async def retry_dispatch(self, order: Order, line: OrderLine, *, actor: Actor, note: str | None = None) -> None:
        """A line the provider refused (failed) goes back into the dispatch queue."""
        if line.fulfillment_status != LineStatus.FAILED:
            raise DomainError(
                f"Line {line.position} of order {order.number} is {line.fulfillment_status}; only failed lines "
                "are retried (unknown dispatches are resolved, held lines resumed)"
            )
        await self.orders.set_line_status(order, line, LineStatus.QUEUED, actor=actor, note=note or "retry")

    async def resolve_unknown_dispatch(
        self, order: Order, line: OrderLine, *, actor: Actor, upstream_order_id: str | None, note: str | None = None
    ) -> None:
        """Staff checked the provider: the order exists there (its id) or it was never placed (re-queue)."""
        if line.fulfillment_status not in (LineStatus.DISPATCH_UNKNOWN, LineStatus.NEEDS_REVIEW):
            raise DomainError(
                f"Line {line.position} of order {order.number} is {line.fulfillment_status}, not awaiting review"
            )
        if upstream_order_id is None:
            await self.orders.set_line_status(
                order, line, LineStatus.QUEUED, actor=actor, note=note or "not placed at the provider: dispatch again"
            )
            return
        upstream_order_id = upstream_order_id.strip()
        if not UPSTREAM_ID.match(upstream_order_id):
            raise ValidationFailed({"upstream_order_id": "use the provider's order id (letters, digits, - or _)"})
        line.provider_order_id = upstream_order_id
        try:
            async with self.session.begin_nested():
                await self.orders.set_line_status(
                    order,
                    line,
                    LineStatus.DISPATCHED,
                    actor=actor,
                    note=note or f"found at the provider as order {upstream_order_id}",
                    data={"provider_order_id": upstream_order_id},
                )
        except IntegrityError as exc:
            raise Conflict(f"provider order {upstream_order_id} already belongs to another line") from exc

    async def request_refill(self, order: Order, line: OrderLine, *, actor: Actor) -> RefillRequest:
        """Record a refill within the service's refill window; the worker sends it to the provider."""
        label = f"Line {line.position} of order {order.number}"
        if line.fulfillment_status not in (LineStatus.COMPLETED, LineStatus.PARTIAL):
            raise DomainError(f"{label} is {line.fulfillment_status}; only delivered lines can be refilled")
        refill_days = line.service.refill_days
        if refill_days <= 0:
            raise DomainError(f"{label}: the service {line.service_name} has no refill guarantee")
        if line.provider_order_id is None or line.provider_id is None:
            raise DomainError(f"{label} has no provider order to refill")
        finished = line.finished_at or line.updated_at
        deadline = finished + timedelta(days=refill_days)
        if self.orders.clock() > deadline:
            raise DomainError(f"{label}: the refill window ended on {deadline:%Y-%m-%d} ({refill_days} days)")
        refill = RefillRequest(order_line_id=line.id, provider_id=line.provider_id, requested_by=actor.describe())
        try:
            async with self.session.begin_nested():
                self.session.add(refill)
                await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(f"{label} already has an open refill request") from exc
        self.orders.record_event(
            order, EventKind.PROVIDER, actor, line=line, note="refill requested", data={"refill_request_id": refill.id}
        )
        await self.session.flush()
        return refill
