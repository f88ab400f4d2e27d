"""What we earn on a service: our price against the provider's rate, compared on the same basis and currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.catalog.models import PriceBasis
from app.i18n import N_

BASE_CURRENCY = "EUR"  # provider rates are converted to it with provider.eur_per_unit
# Upstream service types whose rate is the price of one package (API v2: every other type is per 1000).
PACKAGE_TYPES = frozenset({"package"})


@dataclass(frozen=True)
class Margin:
    price: Decimal  # ours, per the basis below, in EUR
    cost: Decimal  # the provider's, converted to EUR, on the same basis
    basis: PriceBasis

    @property
    def share(self) -> Decimal:
        """Margin as a percentage of our price (negative when we sell below cost)."""
        return (self.price - self.cost) / self.price * 100


@dataclass(frozen=True)
class NotComparable:
    reason: str  # a catalog id (N_)


def margin(
    *,
    price: Decimal,
    basis: PriceBasis,
    currency: str,
    upstream_rate: Decimal,
    upstream_type: str,
    eur_per_unit: Decimal,
) -> Margin | NotComparable:
    """Our price against the upstream rate, or why the two cannot be compared."""
    if currency != BASE_CURRENCY:
        return NotComparable(N_("our price is not in EUR"))
    if price <= 0:
        return NotComparable(N_("our price is zero"))
    upstream_per_package = upstream_type.strip().lower() in PACKAGE_TYPES
    if basis == PriceBasis.PER_MONTH:
        return NotComparable(N_("price per month against a rate per order"))
    if basis == PriceBasis.PER_PACKAGE and not upstream_per_package:
        return NotComparable(N_("price per package against a rate per 1000"))
    if basis == PriceBasis.PER_1000 and upstream_per_package:
        return NotComparable(N_("price per 1000 against a rate per package"))
    return Margin(price=price, cost=upstream_rate * eur_per_unit, basis=basis)
