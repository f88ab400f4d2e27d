"""The fake Stripe's objects and what happens to them: sessions, payments, refunds, customers, portal sessions.

Objects are plain dicts in Stripe's JSON shape (test mode). Each operation returns the object the API answers
with and the events Stripe would send about it (:class:`Happening`); the caller serialises access (one lock) and
delivers the events. Checkout Sessions are made in ``stripe_checkout.py``, subscriptions and their invoices in
``stripe_billing.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.sandbox.stripe_balance import record_charge, record_refund
from app.sandbox.stripe_wire import ApiError, integer, major, missing, new_id, now, public

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
MAX_METADATA_KEYS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 50, 40, 500


@dataclass
class Happening:
    """Something Stripe announces by webhook: the event type, the object as it is now, what changed."""

    type: str
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.object = public(self.object)  # a copy: the event shows the object at this moment


@dataclass
class Answer:
    """An API result: the object to return and the events to send about it."""

    body: dict[str, Any]
    happenings: list[Happening] = field(default_factory=list)


def as_list(items: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": False, "url": url}


def flag(value: Any) -> bool:
    return str(value).lower() == "true"


def check_metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "Invalid object", param=param)
    if len(value) > MAX_METADATA_KEYS:
        raise ApiError(400, f"Invalid {param}: must have at most {MAX_METADATA_KEYS} keys", param=param)
    for key, item in value.items():
        if len(key) > MAX_METADATA_KEY or not isinstance(item, str) or len(item) > MAX_METADATA_VALUE:
            raise ApiError(
                400,
                f"Metadata keys must be at most {MAX_METADATA_KEY} characters and values strings of at most "
                f"{MAX_METADATA_VALUE} characters",
                param=f"{param}[{key}]",
            )
    return dict(value)


def check_url(value: Any, param: str) -> str | None:
    if value in (None, ""):
        return None
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(400, "Not a valid URL", code="url_invalid", param=param)
    return str(value)


class StripeState:
    """Every object the fake knows, by id, per kind (``state.sessions["cs_test_…"]``)."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, list[dict[str, Any]]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        # What the session asked to put on the objects made at payment (payment_intent_data, subscription_data).
        self.session_extras: dict[str, dict[str, Any]] = {}
        # Periods billed so far per subscription (the next period is counted from the billing cycle anchor).
        self.billing_periods: dict[str, int] = {}
        self.balance_transactions: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        # When charges and refunds happen (unix seconds); tests move it to the month they book.
        self.clock: Callable[[], int] = now

    KINDS = (
        "sessions",
        "line_items",
        "payment_intents",
        "charges",
        "refunds",
        "customers",
        "portal_sessions",
        "subscriptions",
        "invoices",
        "session_extras",
        "billing_periods",
        "balance_transactions",
        "payouts",
    )

    def clear(self) -> None:
        for kind in self.KINDS:
            getattr(self, kind).clear()
        self.clock = now

    def dump(self) -> dict[str, Any]:
        """Everything as JSON-ready dicts (the demo keeps it across restarts)."""
        return {kind: getattr(self, kind) for kind in self.KINDS}

    def load(self, data: dict[str, Any]) -> None:
        for kind in self.KINDS:
            getattr(self, kind).update(data.get(kind) or {})

    # -- lookups -------------------------------------------------------------------------------------------

    def session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise missing("checkout.session", session_id, "session")
        if session["status"] == "open" and session["expires_at"] <= now():
            session.update(status="expired", url=None)
        return session

    def customer(self, customer_id: str, param: str = "customer") -> dict[str, Any]:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise missing("customer", customer_id, param)
        return customer

    # -- payment -------------------------------------------------------------------------------------------

    def charge(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        email: str | None,
        metadata: dict[str, str],
        description: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A payment intent that succeeded at once, with its charge (a Visa ending 4242) and its balance transaction."""
        created = self.clock()
        intent_id, charge_id, method = new_id("pi"), new_id("ch"), new_id("pm")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": amount,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{new_id('x')[2:]}",
            "confirmation_method": "automatic",
            "created": created,
            "currency": currency,
            "customer": customer,
            "description": description,
            "latest_charge": charge_id,
            "livemode": False,
            "metadata": dict(metadata),
            "payment_method": method,
            "payment_method_types": ["card"],
            "receipt_email": email,
            "status": "succeeded",
        }
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "balance_transaction": new_id("txn"),
            "billing_details": {"address": None, "email": email, "name": None, "phone": None},
            "captured": True,
            "created": created,
            "currency": currency,
            "customer": customer,
            "description": description,
            "disputed": False,
            "livemode": False,
            "metadata": dict(metadata),
            "outcome": {
                "network_status": "approved_by_network",
                "risk_level": "normal",
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
            "paid": True,
            "payment_intent": intent_id,
            "payment_method": method,
            "payment_method_details": {
                "type": "card",
                "card": {"brand": "visa", "country": "DE", "exp_month": 12, "exp_year": 2034, "last4": "4242"},
            },
            "receipt_email": email,
            "refunded": False,
            # Real Stripe includes this list only when expanded (API 2022-11-15 and later).
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/charges/{charge_id}/refunds",
            },
            "status": "succeeded",
        }
        self.payment_intents[intent_id] = intent
        self.charges[charge_id] = charge
        record_charge(self, charge)
        return intent, charge

    def customer_details(self, email: str | None) -> dict[str, Any]:
        return {"address": None, "email": email, "name": None, "phone": None, "tax_exempt": "none", "tax_ids": []}

    def session_email(self, session: dict[str, Any]) -> str | None:
        if session["customer_email"]:
            return str(session["customer_email"])
        if session["customer"] and session["customer"] in self.customers:
            email = self.customers[session["customer"]].get("email")
            return str(email) if email else None
        return None

    # -- refunds -------------------------------------------------------------------------------------------

    def create_refund(self, params: dict[str, Any], refund_status: str = "succeeded") -> Answer:
        intent_id, charge_id = params.get("payment_intent"), params.get("charge")
        if intent_id:
            intent = self.payment_intents.get(intent_id)
            if intent is None:
                raise missing("payment_intent", intent_id, "payment_intent")
            if intent["status"] != "succeeded" or not intent["latest_charge"]:
                raise ApiError(
                    400, "This PaymentIntent does not have a successful charge to refund.", param="payment_intent"
                )
            charge_id = intent["latest_charge"]
        elif not charge_id:
            raise ApiError(
                400, "One of the following params should be provided for this request: payment_intent or charge."
            )
        charge = self.charges.get(charge_id)
        if charge is None:
            raise missing("charge", charge_id, "charge")
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise ApiError(400, f"Charge {charge_id} has already been refunded.", code="charge_already_refunded")
        amount = integer(params["amount"], "amount", minimum=1) if params.get("amount") not in (None, "") else remaining
        if amount > remaining:
            currency = charge["currency"]
            raise ApiError(
                400,
                f"Refund amount ({major(amount, currency)}) is greater than unrefunded amount on charge "
                f"({major(remaining, currency)})",
                code="amount_too_large",
                param="amount",
            )
        reason = params.get("reason") or None
        if reason is not None and reason not in REFUND_REASONS:
            raise ApiError(400, f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason")
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "charge": charge_id,
            "created": self.clock(),
            "currency": charge["currency"],
            "destination_details": {"type": "card", "card": {"type": "refund", "reference_status": "pending"}},
            "metadata": check_metadata(params.get("metadata")),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": refund_status,
            "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        if refund_status == "succeeded":
            record_refund(self, refund)
        previous: dict[str, Any] = {"amount_refunded": charge["amount_refunded"]}
        charge["amount_refunded"] += amount
        if charge["amount_refunded"] == charge["amount"]:
            previous["refunded"] = False
            charge["refunded"] = True
        charge["refunds"]["data"].insert(0, refund)
        charge["refunds"]["total_count"] += 1
        return Answer(refund, [Happening("charge.refunded", charge, previous)])

    # -- customers and the portal --------------------------------------------------------------------------

    def create_customer(self, params: dict[str, Any]) -> Answer:
        customer_id = new_id("cus")
        customer = {
            "id": customer_id,
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description") or None,
            "email": params.get("email") or None,
            "invoice_prefix": new_id("x")[2:10].upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
            "livemode": False,
            "metadata": check_metadata(params.get("metadata")),
            "name": params.get("name") or None,
            "phone": None,
            "preferred_locales": list(params.get("preferred_locales") or []),
            "shipping": None,
            "tax_exempt": "none",
        }
        self.customers[customer_id] = customer
        return Answer(customer)

    def create_portal_session(self, params: dict[str, Any], base_url: str) -> Answer:
        customer_id = params.get("customer")
        if not customer_id:
            raise ApiError(400, "Missing required param: customer.", code="parameter_missing", param="customer")
        self.customer(customer_id)
        portal_id = new_id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "configuration": "bpc_sandbox",
            "created": now(),
            "customer": customer_id,
            "flow": None,
            "livemode": False,
            "locale": params.get("locale") or None,
            "on_behalf_of": None,
            "return_url": check_url(params.get("return_url"), "return_url"),
            "url": f"{base_url}/billing_portal/{portal_id}",
        }
        self.portal_sessions[portal_id] = portal
        return Answer(portal)
