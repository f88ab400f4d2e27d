"""Paying a Checkout Session, and the subscriptions and invoices that follow in subscription mode.

Shapes follow Stripe's current API: a subscription's period lives on its items (``items.data[].current_period_end``),
an invoice names its subscription under ``parent.subscription_details`` (with the subscription's metadata), and
its ``payments`` list names the payment intent that paid it.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

from app.sandbox.stripe_state import Answer, Happening, StripeState, as_list
from app.sandbox.stripe_wire import ApiError, missing, new_id, now

DAY = 24 * 3600


def add_interval(anchor: int, interval: str, count: int) -> int:
    """``anchor`` moved ``count`` intervals on, keeping the anchor's day of month (31 Jan -> 28 Feb -> 31 Mar)."""
    if interval == "day":
        return anchor + count * DAY
    if interval == "week":
        return anchor + count * 7 * DAY
    months = count * (12 if interval == "year" else 1)
    moment = datetime.fromtimestamp(anchor, tz=UTC)
    years, month_index = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + years, month_index + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def complete_session(state: StripeState, session_id: str) -> Answer:
    """What a customer's successful payment does: the session completes, money moves, events go out."""
    session = state.session(session_id)
    if session["status"] != "open":
        raise ApiError(400, f"This Checkout Session is {session['status']} and can no longer be paid.", param="session")
    extras = state.session_extras[session_id]
    email = state.session_email(session)
    later: list[Happening] = []
    if session["mode"] == "payment":
        intent, _charge = state.charge(
            amount=session["amount_total"],
            currency=session["currency"],
            customer=session["customer"],
            email=email,
            metadata=extras["payment_intent_metadata"],
            description=None,
        )
        session["payment_intent"] = intent["id"]
    else:
        customer_id = session["customer"] or state.create_customer({"email": email}).body["id"]
        subscription = _create_subscription(state, session, customer_id, extras["subscription_metadata"])
        invoice = _bill(
            state, subscription, "subscription_create", paid=True, extra_items=_one_time_items(state, session)
        )
        session.update(customer=customer_id, subscription=subscription["id"], invoice=invoice["id"])
        later.append(Happening("invoice.paid", invoice))
    session.update(status="complete", payment_status="paid", url=None, customer_details=state.customer_details(email))
    return Answer(session, [Happening("checkout.session.completed", session), *later])


def _one_time_items(state: StripeState, session: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in state.line_items[session["id"]] if not item["price"]["recurring"]]


def _create_subscription(
    state: StripeState, session: dict[str, Any], customer_id: str, metadata: dict[str, str]
) -> dict[str, Any]:
    start = now()
    subscription_id = new_id("sub")
    items = []
    for line in state.line_items[session["id"]]:
        recurring = line["price"]["recurring"]
        if not recurring:
            continue
        items.append(
            {
                "id": new_id("si"),
                "object": "subscription_item",
                "created": start,
                "current_period_start": start,
                "current_period_end": add_interval(start, recurring["interval"], recurring["interval_count"]),
                "metadata": {},
                "price": line["price"],
                "quantity": line["quantity"],
                "subscription": subscription_id,
                "tax_rates": [],
                "_description": line["description"],
            }
        )
    subscription = {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": start,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": start,
        "currency": session["currency"],
        "customer": customer_id,
        "days_until_due": None,
        "default_payment_method": None,
        "description": None,
        "discounts": [],
        "ended_at": None,
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "total_count": len(items),
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": dict(metadata),
        "pause_collection": None,
        "start_date": start,
        "status": "active",
        "trial_end": None,
        "trial_start": None,
    }
    state.subscriptions[subscription_id] = subscription
    state.billing_periods[subscription_id] = 1
    return subscription


def _bill(
    state: StripeState,
    subscription: dict[str, Any],
    billing_reason: str,
    *,
    paid: bool,
    extra_items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The subscription's invoice for its current period, paid by card at once (or declined)."""
    created = now()
    invoice_id = new_id("in")
    customer = state.customers[subscription["customer"]]
    currency = subscription["currency"]
    lines = []
    for item in subscription["items"]["data"]:
        lines.append(_invoice_line(invoice_id, subscription, item))
    for extra in extra_items or []:
        lines.append(_one_time_line(invoice_id, extra, created))
    amount = sum(line["amount"] for line in lines)
    payments: list[dict[str, Any]] = []
    if paid:
        intent, _charge = state.charge(
            amount=amount,
            currency=currency,
            customer=customer["id"],
            email=customer["email"],
            metadata={},
            description="Subscription creation" if billing_reason == "subscription_create" else "Subscription update",
        )
        payments.append(
            {
                "id": new_id("inpay"),
                "object": "invoice_payment",
                "amount_paid": amount,
                "amount_requested": amount,
                "created": created,
                "currency": currency,
                "invoice": invoice_id,
                "is_default": True,
                "livemode": False,
                "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                "status": "paid",
                "status_transitions": {"canceled_at": None, "paid_at": created},
            }
        )
    number = sum(1 for invoice in state.invoices.values() if invoice["customer"] == customer["id"]) + 1
    invoice = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "DE",
        "account_name": "SMPLaT sandbox",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer["id"],
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "lines": as_list(lines, f"/v1/invoices/{invoice_id}/lines") | {"total_count": len(lines)},
        "livemode": False,
        "metadata": {},
        "number": f"{customer['invoice_prefix']}-{number:04d}",
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": dict(subscription["metadata"]), "subscription": subscription["id"]},
        },
        "payments": as_list(payments, f"/v1/invoices/{invoice_id}/payments") | {"total_count": len(payments)},
        "period_end": created,
        "period_start": created,
        "status": "paid" if paid else "open",
        "status_transitions": {
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": created if paid else None,
            "voided_at": None,
        },
        "subtotal": amount,
        "total": amount,
        "total_excluding_tax": amount,
        "total_taxes": [],
    }
    state.invoices[invoice_id] = invoice
    subscription["latest_invoice"] = invoice_id
    return invoice


def _invoice_line(invoice_id: str, subscription: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    price = item["price"]
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": price["unit_amount"] * item["quantity"],
        "currency": price["currency"],
        "description": f"{item['quantity']} × {item['_description']}",
        "discountable": True,
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": subscription["id"],
                "subscription_item": item["id"],
            },
        },
        "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": item["quantity"],
    }


def _one_time_line(invoice_id: str, item: dict[str, Any], created: int) -> dict[str, Any]:
    price = item["price"]
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": item["amount_total"],
        "currency": item["currency"],
        "description": item["description"],
        "discountable": True,
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {"type": "invoice_item_details", "invoice_item_details": None, "subscription_item_details": None},
        "period": {"start": created, "end": created},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": item["quantity"],
    }


def subscription(state: StripeState, subscription_id: str) -> dict[str, Any]:
    found = state.subscriptions.get(subscription_id)
    if found is None:
        raise missing("subscription", subscription_id, "id")
    return found


def renew(state: StripeState, subscription_id: str, *, paid: bool = True) -> Answer:
    """The next period begins: a new invoice, paid by card (``invoice.paid``) or declined (``past_due``)."""
    current = subscription(state, subscription_id)
    if current["status"] not in ("active", "past_due"):
        raise ApiError(400, f"Subscription {subscription_id} is {current['status']}; it does not renew.")
    previous: dict[str, Any] = {"latest_invoice": current["latest_invoice"]}
    periods = state.billing_periods[subscription_id]
    for item in current["items"]["data"]:
        recurring = item["price"]["recurring"]
        anchor, interval, count = current["billing_cycle_anchor"], recurring["interval"], recurring["interval_count"]
        item["current_period_start"] = add_interval(anchor, interval, count * periods)
        item["current_period_end"] = add_interval(anchor, interval, count * (periods + 1))
    state.billing_periods[subscription_id] = periods + 1
    invoice = _bill(state, current, "subscription_cycle", paid=paid)
    status = "active" if paid else "past_due"
    if current["status"] != status:
        previous["status"] = current["status"]
        current["status"] = status
    updated = Happening("customer.subscription.updated", current, previous)
    return Answer(invoice, [updated, Happening("invoice.paid" if paid else "invoice.payment_failed", invoice)])


def cancel(state: StripeState, subscription_id: str) -> Answer:
    """Cancel at once (the portal's button, or ``DELETE /v1/subscriptions/{id}``)."""
    current = subscription(state, subscription_id)
    if current["status"] == "canceled":
        raise ApiError(400, f"Subscription {subscription_id} has already been canceled.", param="id")
    moment = now()
    current.update(status="canceled", canceled_at=moment, ended_at=moment)
    current["cancellation_details"]["reason"] = "cancellation_requested"
    return Answer(current, [Happening("customer.subscription.deleted", current)])


def update(state: StripeState, subscription_id: str, params: dict[str, Any]) -> Answer:
    """``POST /v1/subscriptions/{id}``: only ``cancel_at_period_end`` (end when the paid period does)."""
    current = subscription(state, subscription_id)
    if current["status"] == "canceled":
        raise ApiError(400, f"Subscription {subscription_id} has already been canceled.", param="id")
    wanted = str(params.get("cancel_at_period_end", "")).lower()
    if wanted not in ("true", "false"):
        raise ApiError(400, "Only cancel_at_period_end can be updated here.", param="cancel_at_period_end")
    at_end = wanted == "true"
    if current["cancel_at_period_end"] == at_end:
        return Answer(current)
    previous = {"cancel_at_period_end": current["cancel_at_period_end"], "cancel_at": current["cancel_at"]}
    end = max(item["current_period_end"] for item in current["items"]["data"])
    current.update(cancel_at_period_end=at_end, cancel_at=end if at_end else None)
    return Answer(current, [Happening("customer.subscription.updated", current, previous)])


def list_subscriptions(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
    status = params.get("status")
    found = [
        item
        for item in state.subscriptions.values()
        if (not params.get("customer") or item["customer"] == params["customer"])
        and (status == "all" or (item["status"] == status if status else item["status"] != "canceled"))
    ]
    found.sort(key=lambda item: item["created"], reverse=True)
    return as_list(found, "/v1/subscriptions")
