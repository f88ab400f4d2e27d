"""What happens in the same transaction once an order is paid, besides queueing its lines.

Invoicing (the invoice, numbered under lock) fills in its placeholder when it lands; the confirmation email with
the tracking link is released from the outbox here (``app.notifications.messages``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from app.actors import Actor
from app.notifications.messages import send_order_confirmation
from app.orders.models import Order
from app.uow import UnitOfWork

log = structlog.get_logger(__name__)

FollowUp = Callable[[UnitOfWork, Order, Actor], Awaitable[None]]


async def issue_invoice_pending(_uow: UnitOfWork, order: Order, _actor: Actor) -> None:
    """Pending: the invoicing issue issues the invoice here."""
    log.debug("invoice pending", order=order.number)


async def send_confirmation(uow: UnitOfWork, order: Order, _actor: Actor) -> None:
    """The order confirmation (payment received, tracking link) goes out with the payment's transaction."""
    await send_order_confirmation(uow, order)


PAID_FOLLOW_UPS: tuple[FollowUp, ...] = (issue_invoice_pending, send_confirmation)


async def after_payment(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    for follow_up in PAID_FOLLOW_UPS:
        await follow_up(uow, order, actor)
