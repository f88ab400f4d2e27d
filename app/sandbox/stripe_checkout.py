"""Checkout Sessions in the fake: Stripe's checks on creation (line items, modes, minimum charge), expiry."""

from __future__ import annotations

from typing import Any

from app.sandbox.stripe_state import Answer, Happening, StripeState, check_metadata, check_url, flag
from app.sandbox.stripe_wire import MINIMUM_CHARGE, ApiError, integer, major, missing, new_id, now, public

SESSION_LIFETIME = 24 * 3600
MODES = ("payment", "subscription")
INTERVALS = ("day", "week", "month", "year")


def create_session(state: StripeState, params: dict[str, Any], base_url: str) -> Answer:
    mode = params.get("mode") or "payment"
    if mode not in MODES:
        raise ApiError(400, f"The sandbox supports mode payment or subscription, not {mode!r}", param="mode")
    if params.get("customer") and params.get("customer_email"):
        raise ApiError(400, "You may only specify one of these parameters: customer, customer_email.")
    customer = params.get("customer") or None
    if customer:
        state.customer(customer)
    if mode == "subscription" and (params.get("payment_intent_data") or params.get("invoice_creation")):
        which = "payment_intent_data" if params.get("payment_intent_data") else "invoice_creation"
        raise ApiError(400, f"You can not pass `{which}` in `subscription` mode.", param=which)
    if mode == "payment" and params.get("subscription_data"):
        raise ApiError(400, "You can not pass `subscription_data` in `payment` mode.", param="subscription_data")
    items = _line_items(params.get("line_items"), mode)
    currency = items[0]["currency"]
    total = sum(item["amount_total"] for item in items)
    minimum = MINIMUM_CHARGE.get(currency, 0)
    if total < minimum:
        raise ApiError(
            400,
            f"The Checkout Session's total amount due must add up to at least {major(minimum, currency)} {currency}",
            param="line_items",
        )
    created = now()
    session_id = new_id("cs")
    metadata = check_metadata(params.get("metadata"))
    invoice_creation = params.get("invoice_creation") or {}
    session: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {
            "enabled": flag((params.get("automatic_tax") or {}).get("enabled")),
            "liability": None,
            "status": None,
        },
        "billing_address_collection": None,
        "cancel_url": check_url(params.get("cancel_url"), "cancel_url"),
        "client_reference_id": params.get("client_reference_id") or None,
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_creation": None if customer else ("always" if mode == "subscription" else "if_required"),
        "customer_details": None,
        "customer_email": params.get("customer_email") or None,
        "expires_at": created + SESSION_LIFETIME,
        "invoice": None,
        "invoice_creation": (
            {"enabled": flag(invoice_creation.get("enabled")), "invoice_data": {"metadata": {}}}
            if mode == "payment"
            else None
        ),
        "livemode": False,
        "locale": params.get("locale") or None,
        "metadata": metadata,
        "mode": mode,
        "payment_intent": None,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "subscription": None,
        "success_url": check_url(params.get("success_url"), "success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": f"{base_url}/checkout/{session_id}",
    }
    state.sessions[session_id] = session
    state.line_items[session_id] = items
    state.session_extras[session_id] = {
        "payment_intent_metadata": check_metadata(
            (params.get("payment_intent_data") or {}).get("metadata"), "payment_intent_data[metadata]"
        ),
        "subscription_metadata": check_metadata(
            (params.get("subscription_data") or {}).get("metadata"), "subscription_data[metadata]"
        ),
    }
    return Answer(session)


def _line_items(raw: Any, mode: str) -> list[dict[str, Any]]:
    if not raw:
        raise ApiError(400, "Missing required param: line_items.", code="parameter_missing", param="line_items")
    if not isinstance(raw, list):
        raise ApiError(400, "Invalid array", param="line_items")
    items = [_line_item(entry, f"line_items[{index}]", mode) for index, entry in enumerate(raw)]
    if len({item["currency"] for item in items}) > 1:
        raise ApiError(400, "All line items must use the same currency.", param="line_items")
    if mode == "subscription" and not any(item["price"]["recurring"] for item in items):
        raise ApiError(
            400,
            "You must provide at least one recurring price in `subscription` mode when using prices.",
            param="line_items",
        )
    return items


def _line_item(entry: Any, param: str, mode: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ApiError(400, "Invalid object", param=param)
    data = entry.get("price_data")
    if not isinstance(data, dict):
        if entry.get("price"):
            raise missing("price", str(entry["price"]), f"{param}[price]")
        raise ApiError(400, f"Missing required param: {param}[price_data].", code="parameter_missing", param=param)
    currency = str(data.get("currency") or "").lower()
    if len(currency) != 3:
        raise ApiError(
            400,
            "Missing required param: currency.",
            code="parameter_missing",
            param=f"{param}[price_data][currency]",
        )
    unit_amount = integer(data.get("unit_amount"), f"{param}[price_data][unit_amount]")
    product = data.get("product_data")
    if not isinstance(product, dict) or not product.get("name"):
        raise ApiError(
            400,
            "Missing required param: name.",
            code="parameter_missing",
            param=f"{param}[price_data][product_data][name]",
        )
    if "quantity" not in entry:
        raise ApiError(400, f"Quantity is required. Add `quantity` to `{param}`.", param=f"{param}[quantity]")
    quantity = integer(entry["quantity"], f"{param}[quantity]", minimum=1)
    recurring = data.get("recurring")
    if recurring is not None:
        if mode == "payment":
            raise ApiError(
                400,
                "You specified `payment` mode but passed a recurring price. Either switch to `subscription` "
                "mode or use only one-time prices.",
                param="mode",
            )
        interval = recurring.get("interval") if isinstance(recurring, dict) else None
        if interval not in INTERVALS:
            raise ApiError(
                400,
                f"Invalid interval: must be one of {', '.join(INTERVALS)}",
                param=f"{param}[price_data][recurring][interval]",
            )
        recurring = {
            "interval": interval,
            "interval_count": integer(recurring.get("interval_count", 1), "interval_count", minimum=1),
            "meter": None,
            "usage_type": "licensed",
        }
    created = now()
    product_id = new_id("prod")
    price = {
        "id": new_id("price"),
        "object": "price",
        "active": False,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "livemode": False,
        "metadata": {},
        "product": product_id,
        "recurring": recurring,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    return {
        "id": new_id("li"),
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": unit_amount * quantity,
        "amount_tax": 0,
        "amount_total": unit_amount * quantity,
        "currency": currency,
        "description": str(product["name"]),
        "price": price,
        "quantity": quantity,
        # Not in Stripe's item object (it names the product by id); kept for the hosted page.
        "_product": {"name": str(product["name"]), "description": product.get("description") or None},
    }


def expire_session(state: StripeState, session_id: str) -> Answer:
    session = state.session(session_id)
    if session["status"] != "open":
        raise ApiError(
            400,
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status '
            f'of "{session["status"]}".',
        )
    session.update(status="expired", url=None)
    return Answer(session, [Happening("checkout.session.expired", session)])


def public_line_items(state: StripeState, session_id: str) -> list[dict[str, Any]]:
    state.session(session_id)
    return [public(item) for item in state.line_items[session_id]]
