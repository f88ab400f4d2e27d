"""What happens in the same transaction once an order is paid, besides queueing its lines.

Invoicing (the invoice, numbered under lock) and notifications (the confirmation email with the tracking link,
as an outbox row) fill these in; until they land, each step is a named placeholder that only says it is pending,
so the payment path already calls them at the right moment and in the right transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from app.actors import Actor
from app.orders.models import Order
from app.uow import UnitOfWork

log = structlog.get_logger(__name__)

FollowUp = Callable[[UnitOfWork, Order, Actor], Awaitable[None]]


async def issue_invoice_pending(_uow: UnitOfWork, order: Order, _actor: Actor) -> None:
    """Pending: the invoicing issue issues the invoice here."""
    log.debug("invoice pending", order=order.number)


async def send_confirmation_pending(_uow: UnitOfWork, order: Order, _actor: Actor) -> None:
    """Pending: the notifications issue writes the confirmation email to the outbox here."""
    log.debug("payment confirmation pending", order=order.number)


PAID_FOLLOW_UPS: tuple[FollowUp, ...] = (issue_invoice_pending, send_confirmation_pending)


async def after_payment(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    for follow_up in PAID_FOLLOW_UPS:
        await follow_up(uow, order, actor)
