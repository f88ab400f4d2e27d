"""What happens in the same transaction once an order is paid, besides queueing its lines.

The confirmation email with the tracking link is released from the outbox (``app.notifications.messages``); the
invoice is issued, numbered under lock (``app.invoicing.commands``), last: its number's row lock is held from
there to commit, so the shorter that stretch the better. A command that writes the payment in one statement
(``UnitOfWork.write``) releases the confirmation with it (:func:`with_payment_write`) and then issues the invoice
(``issue_paid_invoice``, from the facts read with the order's lock); one that flushes calls :func:`after_payment`.
"""

from __future__ import annotations

from app.actors import Actor
from app.db.row_writes import Companion
from app.invoicing.commands import issue_invoice
from app.notifications.messages import order_confirmation_with_write, send_order_confirmation
from app.orders.models import Order
from app.uow import UnitOfWork


def with_payment_write(uow: UnitOfWork, order: Order) -> tuple[Companion, ...]:
    """The order confirmation (payment received, tracking link), released by the payment's own write."""
    return order_confirmation_with_write(uow, order)


async def after_payment(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    """The confirmation released, then the invoice (§14 UStG) issued with the payment, in its transaction."""
    await send_order_confirmation(uow, order)
    await issue_invoice(uow, order, actor)
