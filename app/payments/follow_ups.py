"""What happens in the same transaction once an order is paid, besides queueing its lines.

The confirmation email with the tracking link is released from the outbox (``app.notifications.messages``); the
invoice is issued, numbered under lock (``app.invoicing.commands``), last: its number's row lock is held from
there to commit, so the shorter that stretch the better. A command that writes the payment in one statement
(``UnitOfWork.write``) releases the confirmation with it (:func:`with_payment_write`) and then issues the invoice
(:func:`invoice_payment`); one that flushes calls :func:`after_payment` for both.
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


async def invoice_payment(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    """The invoice (§14 UStG) is issued with the payment, in its transaction."""
    await issue_invoice(uow, order, actor)


async def after_payment(uow: UnitOfWork, order: Order, actor: Actor) -> None:
    await send_order_confirmation(uow, order)
    await invoice_payment(uow, order, actor)
