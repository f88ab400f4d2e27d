"""The subscription moments that write a client mail: renewed, renewal payment failed, canceled.

Each is written by the subscription command that records the processor's event, in its unit of work. Only the
renewal notice is something a client may turn off (``Customer.renewal_notices``): it carries a one-click
unsubscribe link (``List-Unsubscribe``, RFC 8058). The payment failure and the cancellation change what the client
gets, so they always go out; the renewal order's own confirmation (payment received, invoice attached) is an order
mail and always goes out too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.catalog.models import Service
from app.customers.models import Customer
from app.i18n import format_datetime
from app.notifications.messages import storefront_url
from app.notifications.outbox import notify
from app.notifications.unsubscribe import unsubscribe_url
from app.orders.models import Order
from app.payments.models import Subscription
from app.uow import UnitOfWork

SUBSCRIPTION_RENEWED = "subscription_renewed"
SUBSCRIPTION_PAYMENT_FAILED = "subscription_payment_failed"
SUBSCRIPTION_CANCELED = "subscription_canceled"


async def _send(
    uow: UnitOfWork,
    subscription: Subscription,
    template: str,
    extra: Mapping[str, Any] | None = None,
    *,
    opt_out: bool = False,
    order_id: int | None = None,
) -> None:
    customer = await uow.session.get(Customer, subscription.customer_id)
    if customer is None or (opt_out and not customer.renewal_notices):
        return
    service = await uow.session.get(Service, subscription.service_id)
    locale = customer.locale
    context: dict[str, Any] = {
        "name": customer.display_name,
        "service": service.name(locale) if service is not None else "",
        "target": subscription.target_username,
        "price": str(subscription.price),
        "currency": subscription.currency,
        "period_end": format_datetime(subscription.current_period_end, locale, "medium"),
        # The portal's subscription page opens the processor's customer portal on a click (a session made then):
        # a processor link in the mail would have expired before it is read.
        "portal_url": storefront_url("/portal", locale),
    }
    if opt_out:
        context["unsubscribe_url"] = unsubscribe_url(customer.id)
    await notify(
        uow,
        to=customer.email,
        template=template,
        locale=locale,
        order_id=order_id,
        context=context | dict(extra or {}),
    )


async def send_subscription_renewed(uow: UnitOfWork, subscription: Subscription, order: Order) -> None:
    """A later period was paid and its order placed: what was charged and until when (unless turned off)."""
    await _send(
        uow,
        subscription,
        SUBSCRIPTION_RENEWED,
        {"number": order.number, "amount": str(order.gross)},
        opt_out=True,
        order_id=order.id,
    )


async def send_subscription_payment_failed(uow: UnitOfWork, subscription: Subscription) -> None:
    """A renewal was declined: the client should update the card in the processor's portal."""
    await _send(uow, subscription, SUBSCRIPTION_PAYMENT_FAILED)


async def send_subscription_canceled(uow: UnitOfWork, subscription: Subscription) -> None:
    """The subscription ended (canceled by the client, by staff or after unpaid renewals)."""
    await _send(uow, subscription, SUBSCRIPTION_CANCELED)
