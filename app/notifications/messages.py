"""The moments that write a client mail, each a function the domain command calls in its unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.catalog.models import Service
from app.config import get_settings
from app.customers.models import Customer
from app.i18n import format_datetime
from app.notifications.outbox import notify, release_held, write_email
from app.orders.models import Order, OrderLine
from app.uow import UnitOfWork

ORDER_CONFIRMATION = "order_confirmation"
ORDER_COMPLETED = "order_completed"
CHECKOUT_LINK = "checkout_link"
LINE_REFUND = "line_refund"
PORTAL_LINK = "portal_link"
GDPR_EXPORT_READY = "gdpr_export_ready"


def storefront_url(path: str, locale: str) -> str:
    """An absolute storefront link that opens in the client's language (the storefront reads ``?lang=``)."""
    return f"{get_settings().base_url.rstrip('/')}{path}?lang={locale}"


def _order_context(order: Order, customer: Customer) -> dict[str, Any]:
    return {
        "number": order.number,
        "name": customer.display_name,
        "lines": [
            {"service": line.service_name, "quantity": line.quantity, "link": line.link}
            for line in sorted(order.lines, key=lambda line: line.position)
        ],
        "net": str(order.net),
        "tax": str(order.tax),
        "gross": str(order.gross),
        "currency": order.currency,
    }


async def hold_order_confirmation(uow: UnitOfWork, order: Order, tracking_token: str) -> None:
    """Written when the order is placed — the only moment its tracking token exists in clear (only its hash is
    stored on the order) — and held until the order is paid (:func:`send_order_confirmation`)."""
    customer = await uow.session.get(Customer, order.customer_id)
    if customer is None:
        return
    context = _order_context(order, customer) | {
        "tracking_url": storefront_url(f"/track/{tracking_token}", customer.locale)
    }
    await notify(
        uow,
        to=customer.email,
        template=ORDER_CONFIRMATION,
        context=context,
        locale=customer.locale,
        order_id=order.id,
        held=True,
    )


def write_order_completed(uow: UnitOfWork, order: Order) -> None:
    """Every line delivered: a short note to the client (sent by the outbox sweep, see ``write_email``)."""
    customer = order.customer
    write_email(
        uow,
        to=customer.email,
        template=ORDER_COMPLETED,
        context=_order_context(order, customer),
        locale=customer.locale,
        order_id=order.id,
    )


async def send_line_refund(uow: UnitOfWork, order: Order, line: OrderLine, amount: Decimal) -> None:
    """A line ended partial or canceled and its undelivered share is being refunded: the client hears how much."""
    customer = order.customer
    remains = line.quantity if line.remains is None else min(line.remains, line.quantity)
    await notify(
        uow,
        to=customer.email,
        template=LINE_REFUND,
        locale=customer.locale,
        order_id=order.id,
        context={
            "number": order.number,
            "name": customer.display_name,
            "service": line.service_name,
            "quantity": line.quantity,
            "delivered": line.quantity - remains,
            "amount": str(amount),
            "currency": order.currency,
        },
    )


async def send_order_confirmation(uow: UnitOfWork, order: Order) -> None:
    """Paid: the confirmation held since the order was placed goes out (with its tracking link)."""
    await release_held(uow, order_id=order.id, template=ORDER_CONFIRMATION)


async def send_checkout_link(
    uow: UnitOfWork,
    *,
    customer: Customer,
    token: str,
    lines: Sequence[tuple[Service, int]],
    expires_at: datetime,
) -> None:
    """The payment link staff made for a client (its token exists in clear only now), in the client's language."""
    locale = customer.locale
    await notify(
        uow,
        to=customer.email,
        template=CHECKOUT_LINK,
        locale=locale,
        context={
            "name": customer.display_name,
            "items": [{"service": service.name(locale), "quantity": quantity} for service, quantity in lines],
            "pay_url": storefront_url(f"/pay/{token}", locale),
            "expires": format_datetime(expires_at, locale, "medium"),
        },
    )


async def send_portal_link(uow: UnitOfWork, customer: Customer, token: str, *, minutes: int) -> str:
    """The client's portal login link (its token exists in clear only now), in their language; returns the link."""
    url = storefront_url(f"/portal/login/{token}", customer.locale)
    await notify(
        uow,
        to=customer.email,
        template=PORTAL_LINK,
        locale=customer.locale,
        context={"name": customer.display_name, "login_url": url, "minutes": minutes},
    )
    return url


async def send_export_ready(uow: UnitOfWork, customer: Customer, *, export_id: int, expires_at: datetime) -> None:
    """The client's data export is built: the portal link to download it (it works only when logged in)."""
    await notify(
        uow,
        to=customer.email,
        template=GDPR_EXPORT_READY,
        locale=customer.locale,
        context={
            "name": customer.display_name,
            "download_url": storefront_url(f"/portal/exports/{export_id}", customer.locale),
            "expires": format_datetime(expires_at, customer.locale, "medium"),
        },
    )
