"""The processor's balance in the shop's terms: what moved through it (charges, refunds, fees, payouts).

Stripe keeps every change of our balance as a balance transaction; the tax advisor books them on the clearing
account (Geldtransitkonto). Amounts are ``Decimal`` in major units, converted exactly from Stripe's minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from app.payments.gateway import from_minor_units


@dataclass(frozen=True)
class BalanceTransaction:
    """One change of the balance: ``amount`` gross (negative for refunds and payouts), ``fee``, ``net`` = both."""

    id: str
    type: str  # charge, refund, payout, stripe_fee, adjustment, …
    reporting_category: str
    amount: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    created: datetime
    available_on: datetime
    source_id: str | None
    payment_intent_id: str | None  # of the charge or refund behind it
    payout_id: str | None  # the payout that took it to the bank (a payout's own id for a payout)


@runtime_checkable
class BalanceHistory(Protocol):
    """A processor that can tell what moved through our balance."""

    async def balance_transactions(self, start: datetime, end: datetime) -> list[BalanceTransaction]:
        """The balance transactions created in ``[start, end)``, oldest first, each with its payout."""
        ...

    async def balance_before(self, moment: datetime) -> dict[str, Decimal]:
        """The balance (net of everything, payouts included) per currency just before ``moment``."""
        ...


def balance_transaction(data: Mapping[str, Any], payout_id: str | None = None) -> BalanceTransaction:
    """Stripe's JSON (with ``source`` expanded or not) as a :class:`BalanceTransaction`."""
    currency = str(data["currency"]).upper()
    source = data.get("source")
    intent = source.get("payment_intent") if isinstance(source, Mapping) else None
    source_id = source.get("id") if isinstance(source, Mapping) else source
    if data["type"] == "payout":
        payout_id = source_id
    return BalanceTransaction(
        id=data["id"],
        type=data["type"],
        reporting_category=data.get("reporting_category") or data["type"],
        amount=from_minor_units(int(data["amount"]), currency),
        fee=from_minor_units(int(data["fee"]), currency),
        net=from_minor_units(int(data["net"]), currency),
        currency=currency,
        created=datetime.fromtimestamp(data["created"], tz=UTC),
        available_on=datetime.fromtimestamp(data["available_on"], tz=UTC),
        source_id=source_id if isinstance(source_id, str) else None,
        payment_intent_id=intent if isinstance(intent, str) else None,
        payout_id=payout_id,
    )
