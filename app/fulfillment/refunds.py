"""What a client gets back when the provider delivered less than ordered (Partial) or nothing (Canceled).

The arithmetic is :func:`undelivered_share`; :func:`refund_undelivered_share` records the refund the line is
owed. Until payments' ``refund_line`` command is merged here, that record is a pending refund request on the
line's timeline, which staff act on (and ``refund_line`` will pick up).
"""

from __future__ import annotations

from decimal import Decimal

from app.actors import Actor
from app.invoicing.tax import net_tax_gross
from app.money import to_cents
from app.orders.lifecycle import record_event
from app.orders.models import EventKind, Order, OrderLine
from app.uow import UnitOfWork

REFUND_REQUESTED = "refund requested"


def undelivered_share(*, remains: int, quantity: int, gross: Decimal) -> Decimal:
    """``remains / quantity * gross``, rounded half-up to cents; remains is clamped to 0..quantity."""
    if quantity <= 0:
        raise ValueError(f"quantity must be positive: {quantity}")
    undelivered = min(max(remains, 0), quantity)
    return to_cents(Decimal(undelivered) * gross / Decimal(quantity))


def line_gross(order: Order, line: OrderLine) -> Decimal:
    """What the client paid for the line: its net plus VAT at the order's rate, in cents."""
    return net_tax_gross(line.net, order.tax_rate).gross


async def refund_undelivered_share(uow: UnitOfWork, order: Order, line: OrderLine, actor: Actor) -> Decimal:
    """Record the refund owed for what the provider did not deliver (all of it for a canceled line).

    Called once per line, when it reaches ``partial`` or ``canceled`` (final states: no second time). Returns the
    amount (0.00 when nothing is owed).
    """
    remains = line.quantity if line.remains is None else line.remains
    gross = line_gross(order, line)
    amount = undelivered_share(remains=remains, quantity=line.quantity, gross=gross)
    if amount <= 0:
        return amount
    record_event(
        uow,
        order,
        EventKind.NOTE,
        actor,
        line=line,
        note=f"{REFUND_REQUESTED}: {amount} {order.currency} for {remains} of {line.quantity} not delivered",
        data={
            "refund_request": {
                "amount": str(amount),
                "currency": order.currency,
                "remains": remains,
                "quantity": line.quantity,
                "line_gross": str(gross),
                "status": "pending",
            }
        },
    )
    return amount
