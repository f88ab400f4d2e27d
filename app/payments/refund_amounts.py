"""How much of an order a refund may give back: pure arithmetic on Decimal cents, no database.

A line's **gross share** is its net plus its share of the order's VAT (VAT is computed on the order's summed
net, so a line has no VAT of its own). The VAT is split in proportion to the nets, rounded half-up on the
running total: each line gets the difference between the rounded running totals, so the last line takes the
rounding remainder, no share is ever negative, and the shares add up exactly to the order's gross.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from app.money import to_cents

ZERO = Decimal("0.00")


def line_gross_shares(line_nets: Sequence[Decimal], order_tax: Decimal, order_gross: Decimal) -> list[Decimal]:
    """Each line's gross share, in the order given; they sum exactly to ``order_gross``."""
    if not line_nets:
        return []
    total_net = sum(line_nets, ZERO)
    shares: list[Decimal] = []
    running_net, allotted_tax = ZERO, ZERO
    for net in line_nets[:-1]:
        running_net += net
        tax_so_far = to_cents(order_tax * running_net / total_net) if total_net else ZERO
        shares.append(net + tax_so_far - allotted_tax)
        allotted_tax = tax_so_far
    shares.append(order_gross - sum(shares, ZERO))
    return shares


def full_line_amount(share: Decimal, refunded_for_line: Decimal) -> Decimal:
    """What a "full line" refund gives back: the line's share less what was refunded for it already."""
    return max(share - refunded_for_line, ZERO)


def remaining_share_amount(share: Decimal, quantity: int, remains: int | None, refunded_for_line: Decimal) -> Decimal:
    """What a "remaining share" refund gives back: the part of the line's share the provider did not deliver
    (``remains`` of ``quantity``, rounded half-up), less what was refunded for the line already."""
    if not remains or quantity <= 0:
        return ZERO
    undelivered = to_cents(share * min(remains, quantity) / quantity)
    return max(undelivered - refunded_for_line, ZERO)


def refundable_for_line(
    line_share: Decimal, refunded_for_line: Decimal, payment_amount: Decimal, payment_refunded: Decimal
) -> Decimal:
    """The most a refund of this line may still give back: its share left, and no more than the payment has left."""
    return max(min(line_share - refunded_for_line, payment_amount - payment_refunded), ZERO)
