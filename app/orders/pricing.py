"""Line and order amounts. Decimal throughout; each line is rounded half-up to cents, then summed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.catalog.models import PRICE_BASIS, PriceBasis, ServiceKind
from app.invoicing.tax import TaxDecision
from app.money import PER_MILLE_UNITS, to_cents


def billed_units(kind: ServiceKind, quantity: int, runs: int | None = None) -> int:
    """Units the price applies to: a drip-feed delivers ``quantity`` on each of ``runs`` runs; a subscription line
    is one period at the monthly price, whatever its ``quantity`` (likes or views per post)."""
    if kind == ServiceKind.SUBSCRIPTION:
        return 1
    return quantity * (runs or 1) if kind == ServiceKind.DRIP_FEED else quantity


def line_net(kind: ServiceKind, price: Decimal, quantity: int, runs: int | None = None) -> Decimal:
    units = Decimal(billed_units(kind, quantity, runs))
    if PRICE_BASIS[kind] == PriceBasis.PER_1000:
        return to_cents(price * units / PER_MILLE_UNITS)
    return to_cents(price * units)


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    gross: Decimal


def order_totals(line_nets: Iterable[Decimal], tax: TaxDecision) -> Totals:
    net = to_cents(sum(line_nets, Decimal("0")))
    tax_amount = tax.tax_on(net)
    return Totals(net=net, tax=tax_amount, gross=net + tax_amount)
