"""Tax treatments an order can carry, and the decision the VAT engine hands to the order service."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.money import to_cents

# §12 Abs. 1 UStG
GERMAN_STANDARD_RATE = Decimal("19.00")


class TaxTreatment(StrEnum):
    DOMESTIC = "domestic"  # German VAT
    REVERSE_CHARGE = "reverse_charge"  # EU business with a valid VAT ID (§13b UStG)
    EU_OSS = "eu_oss"  # EU consumer above the threshold: buyer country's rate, declared via OSS
    NON_EU_BUSINESS = "non_eu_business"  # not taxable in Germany (§3a Abs. 2 UStG)
    NON_EU_CONSUMER = "non_eu_consumer"
    SMALL_BUSINESS = "small_business"  # Kleinunternehmer, no VAT (§19 UStG)


@dataclass(frozen=True)
class TaxDecision:
    treatment: TaxTreatment
    rate: Decimal  # percent, e.g. 19.00

    @classmethod
    def domestic(cls) -> TaxDecision:
        return cls(TaxTreatment.DOMESTIC, GERMAN_STANDARD_RATE)

    def tax_on(self, net: Decimal) -> Decimal:
        """Tax on a net amount, rounded half-up to cents."""
        return to_cents(net * self.rate / Decimal(100))
