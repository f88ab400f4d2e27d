"""Money arithmetic: Decimal only, rounded half-up to cents in one place."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
PER_MILLE_UNITS = Decimal(1000)


def to_cents(amount: Decimal) -> Decimal:
    """Round an amount to cents, half-up (the rounding documented for invoices and refunds)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def as_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):  # pragma: no cover - guarded for callers that bypass typing
        raise TypeError("money must never be a float")
    return value if isinstance(value, Decimal) else Decimal(value)


def minor_units(amount: Decimal) -> int:
    """Cents as an integer, e.g. for Stripe's ``unit_amount``."""
    return int(to_cents(amount) * 100)
