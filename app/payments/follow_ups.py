"""What happens in the same transaction once an order is paid, besides queueing its lines.

The invoice is issued, numbered under lock (``app.invoicing.commands``); the confirmation email with the tracking
link is released from the outbox here (``app.notifications.messages``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.actors import Actor
from app.invoicing.commands import issue_invoice
from app.notifications.messages import send_order_confirmation
from app.orders.models import Order
from app.uow import UnitOfWork

FollowUp = Callable[[UnitOfWork, Order, Actor], Awaitable[None]]


async def invoice_payment(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    """The invoice (§14 UStG) is issued with the payment, in its transaction."""
    await issue_invoice(uow, order, actor)


async def send_confirmation(uow: UnitOfWork, order: Order, _actor: Actor) -> None:
    """The order confirmation (payment received, tracking link) goes out with the payment's transaction."""
    await send_order_confirmation(uow, order)


# The invoice last: its number's row lock is held from there to commit, so the shorter that stretch the better.
PAID_FOLLOW_UPS: tuple[FollowUp, ...] = (send_confirmation, invoice_payment)


async def after_payment(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    for follow_up in PAID_FOLLOW_UPS:
        await follow_up(uow, order, actor)
