"""The fake Stripe's balance: a balance transaction for every charge and refund, payouts that sweep it, and the
list endpoints over both.

The fake's fee rule (Stripe's standard EEA card price): 1.5 % of the charge plus €0.25 (25 minor units), rounded
half up to the minor unit. A refund costs no fee and the charge's fee is not returned, as with Stripe. Funds are
available two days after the charge; :func:`pay_out` sends everything available to the bank in one payout per
currency. Lists are newest first and paginate with ``limit``, ``starting_after`` and ``has_more`` as Stripe's do.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from app.sandbox.stripe_wire import ApiError, integer, missing, new_id

if TYPE_CHECKING:
    from app.sandbox.stripe_state import StripeState

FEE_RATE = Decimal("0.015")
FEE_FIXED = 25
AVAILABLE_AFTER = 2 * 24 * 3600
ARRIVAL_AFTER = 24 * 3600
LIST_LIMIT, MAX_LIST_LIMIT = 10, 100
CATEGORIES = {"charge": "charge", "refund": "refund", "payout": "payout", "stripe_fee": "fee"}
RANGE_FILTERS: dict[str, Callable[[int, int], bool]] = {
    "gt": lambda value, bound: value > bound,
    "gte": lambda value, bound: value >= bound,
    "lt": lambda value, bound: value < bound,
    "lte": lambda value, bound: value <= bound,
}


def fee_of(amount: int) -> int:
    """The fake's processing fee for a charge of ``amount`` minor units."""
    return int((amount * FEE_RATE).to_integral_value(ROUND_HALF_UP)) + FEE_FIXED


def _transaction(
    state: StripeState, txn_id: str, *, kind: str, amount: int, fee: int, currency: str, source: str, created: int
) -> dict[str, Any]:
    details = [
        {
            "amount": fee,
            "application": None,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    txn = {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + (0 if kind == "payout" else AVAILABLE_AFTER),
        "created": created,
        "currency": currency,
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": details if fee else [],
        "net": amount - fee,
        "reporting_category": CATEGORIES.get(kind, kind),
        "source": source,
        "status": "available" if kind == "payout" else "pending",
        "type": kind,
        "_payout": None,  # the payout that swept it
    }
    state.balance_transactions[txn_id] = txn
    return txn


def record_charge(state: StripeState, charge: dict[str, Any]) -> None:
    amount = charge["amount"]
    _transaction(
        state,
        charge["balance_transaction"],
        kind="charge",
        amount=amount,
        fee=fee_of(amount),
        currency=charge["currency"],
        source=charge["id"],
        created=charge["created"],
    )


def record_refund(state: StripeState, refund: dict[str, Any]) -> None:
    _transaction(
        state,
        refund["balance_transaction"],
        kind="refund",
        amount=-refund["amount"],
        fee=0,
        currency=refund["currency"],
        source=refund["id"],
        created=refund["created"],
    )


def pay_out(state: StripeState, at: int) -> list[dict[str, Any]]:
    """Send the balance available at ``at`` to the bank: one payout per currency with a positive balance."""
    due: dict[str, list[dict[str, Any]]] = {}
    for txn in state.balance_transactions.values():
        if txn["_payout"] is None and txn["type"] != "payout" and txn["available_on"] <= at:
            due.setdefault(txn["currency"], []).append(txn)
    payouts = []
    for currency, swept in due.items():
        total = sum(txn["net"] for txn in swept)
        if total <= 0:
            continue
        payout_id, txn_id = new_id("po"), new_id("txn")
        payout = {
            "id": payout_id,
            "object": "payout",
            "amount": total,
            "arrival_date": at + ARRIVAL_AFTER,
            "automatic": True,
            "balance_transaction": txn_id,
            "created": at,
            "currency": currency,
            "description": "STRIPE PAYOUT",
            "destination": "ba_sandbox",
            "livemode": False,
            "metadata": {},
            "method": "standard",
            "reconciliation_status": "completed",
            "source_type": "card",
            "statement_descriptor": None,
            "status": "paid",
            "type": "bank_account",
        }
        state.payouts[payout_id] = payout
        own = _transaction(
            state, txn_id, kind="payout", amount=-total, fee=0, currency=currency, source=payout_id, created=at
        )
        for txn in [*swept, own]:
            txn.update(_payout=payout_id, status="available")
        payouts.append(payout)
    return payouts


def list_balance_transactions(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    found = _created_within(list(state.balance_transactions.values()), params)
    if params.get("type"):
        found = [txn for txn in found if txn["type"] == params["type"]]
    if params.get("payout"):
        if params["payout"] not in state.payouts:
            raise missing("payout", params["payout"], "payout")
        found = [txn for txn in found if txn["_payout"] == params["payout"]]
    listed = _page(found, params, "/v1/balance_transactions", "balance_transaction")
    if "data.source" in (params.get("expand") or []):
        listed["data"] = [{**txn, "source": _source(state, txn["source"])} for txn in listed["data"]]
    return listed


def list_payouts(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    found = _created_within(list(state.payouts.values()), params)
    if params.get("status"):
        found = [payout for payout in found if payout["status"] == params["status"]]
    return _page(found, params, "/v1/payouts", "payout")


def payout(state: StripeState, payout_id: str) -> dict[str, Any]:
    found = state.payouts.get(payout_id)
    if found is None:
        raise missing("payout", payout_id, "id")
    return found


def _source(state: StripeState, source_id: str) -> Any:
    for collection in (state.charges, state.refunds, state.payouts):
        if source_id in collection:
            return collection[source_id]
    return source_id


def _created_within(items: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    created = params.get("created")
    if created in (None, ""):
        return items
    if not isinstance(created, dict):
        exact = integer(created, "created")
        return [item for item in items if item["created"] == exact]
    for name, bound in created.items():
        if name not in RANGE_FILTERS:
            raise ApiError(400, f"Received unknown parameter: created[{name}]", param=f"created[{name}]")
        limit = integer(bound, f"created[{name}]")
        items = [item for item in items if RANGE_FILTERS[name](item["created"], limit)]
    return items


def _page(items: list[dict[str, Any]], params: dict[str, Any], url: str, kind: str) -> dict[str, Any]:
    """Newest first (the later made first among equal times), cut after ``starting_after`` to ``limit`` items."""
    newest_first = list(reversed(items))
    newest_first.sort(key=lambda item: item["created"], reverse=True)
    limit = LIST_LIMIT
    if params.get("limit") not in (None, ""):
        limit = integer(params["limit"], "limit", minimum=1)
        if limit > MAX_LIST_LIMIT:
            raise ApiError(400, f"This value must be less than or equal to {MAX_LIST_LIMIT}.", param="limit")
    after = params.get("starting_after")
    if after:
        ids = [item["id"] for item in newest_first]
        if after not in ids:
            raise missing(kind, after, "starting_after")
        newest_first = newest_first[ids.index(after) + 1 :]
    return {
        "object": "list",
        "data": newest_first[:limit],
        "has_more": len(newest_first) > limit,
        "url": url,
    }
