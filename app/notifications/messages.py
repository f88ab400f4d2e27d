"""The moments that write a client mail, each a function the domain command calls in its unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Service
from app.config import get_settings
from app.customers.models import Customer
from app.db.row_writes import Companion
from app.i18n import format_datetime
from app.invoicing.models import Invoice, InvoiceKind
from app.notifications.outbox import notify, release_held, release_held_with_write, write_email
from app.orders.models import Order, OrderLine
from app.orders.states import OrderStatus
from app.uow import UnitOfWork

ORDER_CONFIRMATION = "order_confirmation"
ORDER_COMPLETED = "order_completed"
CHECKOUT_LINK = "checkout_link"
LINE_REFUND = "line_refund"
PORTAL_LINK = "portal_link"
ORDER_STARTED = "order_started"
REFILL_REQUESTED = "refill_requested"
REFILL_DONE = "refill_done"

GDPR_EXPORT_READY = "gdpr_export_ready"
INVOICE_COPY = "invoice_copy"


def storefront_url(path: str, locale: str) -> str:
    """An absolute storefront link that opens in the client's language (the storefront reads ``?lang=``)."""
    return f"{get_settings().base_url.rstrip('/')}{path}?lang={locale}"


async def _names_by_language(uow: UnitOfWork, service_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    rows = await uow.session.execute(
        sa.select(Service.id, Service.name_de, Service.name_en).where(Service.id.in_(set(service_ids)))
    )
    return {row.id: {"de": row.name_de, "en": row.name_en} for row in rows}


def _in_language(names: Mapping[int, Mapping[str, str]], locale: str) -> dict[int, str]:
    return {service_id: name[locale] if locale in name else name["en"] for service_id, name in names.items()}


async def service_names(uow: UnitOfWork, service_ids: Iterable[int], locale: str) -> dict[int, str]:
    """The services' names in the client's language (an order line keeps the English name it was sold under)."""
    return _in_language(await _names_by_language(uow, service_ids), locale)


def _order_context(order: Order, customer: Customer, names: Mapping[int, str]) -> dict[str, Any]:
    return {
        "number": order.number,
        "name": customer.display_name,
        "lines": [
            {"service": names.get(line.service_id, line.service_name), "quantity": line.quantity, "link": line.link}
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
    names = await service_names(uow, (line.service_id for line in order.lines), customer.locale)
    context = _order_context(order, customer, names) | {
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
    names = {line.service_id: line.service.name(customer.locale) for line in order.lines}
    write_email(
        uow,
        to=customer.email,
        template=ORDER_COMPLETED,
        context=_order_context(order, customer, names),
        locale=customer.locale,
        order_id=order.id,
    )


async def _send_line_mail(
    uow: UnitOfWork, template: str, order: Order, line: OrderLine, *, held: bool = False, **extra: Any
) -> None:
    """A mail about one line of an order: its service in the client's language, its quantity, and ``extra``."""
    customer = order.customer
    names = await service_names(uow, [line.service_id], customer.locale)
    await notify(
        uow,
        to=customer.email,
        template=template,
        locale=customer.locale,
        order_id=order.id,
        held=held,
        context={
            "number": order.number,
            "name": customer.display_name,
            "service": names.get(line.service_id, line.service_name),
            "quantity": line.quantity,
            **extra,
        },
    )


async def send_line_refund(uow: UnitOfWork, order: Order, line: OrderLine, amount: Decimal, refund_id: int) -> None:
    """A line ended partial or canceled and its undelivered share is being refunded: the client hears how much.
    The mail is held until the processor has answered (:func:`release_line_refund`), so that it carries the
    refund's credit note."""
    remains = line.quantity if line.remains is None else min(line.remains, line.quantity)
    await _send_line_mail(
        uow,
        LINE_REFUND,
        order,
        line,
        held=True,
        delivered=line.quantity - remains,
        amount=str(amount),
        currency=order.currency,
        refund_id=refund_id,
    )


async def release_line_refund(uow: UnitOfWork, order_id: int, refund_id: int) -> None:
    """The refund succeeded (its credit note is issued) or failed: its held mail goes out."""
    await release_held(uow, order_id=order_id, template=LINE_REFUND, refund_id=refund_id)


async def send_order_confirmation(uow: UnitOfWork, order: Order) -> None:
    """Paid: the confirmation held since the order was placed goes out (with its tracking link)."""
    await release_held(uow, order_id=order.id, template=ORDER_CONFIRMATION)


def order_confirmation_with_write(uow: UnitOfWork, order: Order) -> tuple[Companion, ...]:
    """:func:`send_order_confirmation` as companions of the payment's write (``UnitOfWork.write``)."""
    return release_held_with_write(uow, order_id=order.id, template=ORDER_CONFIRMATION)


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


async def send_invoice_copy(uow: UnitOfWork, invoice: Invoice, customer: Customer) -> None:
    """An issued invoice or credit note once more, to the client's address; the PDF is attached when sent."""
    await notify(
        uow,
        to=customer.email,
        template=INVOICE_COPY,
        locale=invoice.locale,
        order_id=invoice.order_id,
        context={
            "name": customer.display_name,
            "number": invoice.number,
            "credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
            "invoice_id": invoice.id,
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


def paid_orders(orders: Iterable[Order]) -> set[int]:
    """The orders not started yet: what a command that may start them remembers before it moves their lines."""
    return {order.id for order in orders if order.status == OrderStatus.PAID}


async def send_orders_started(uow: UnitOfWork, orders: Iterable[Order], *, paid_before: set[int]) -> None:
    """The orders whose first line just reached the provider (paid before, in fulfillment now): the client hears
    that work began — once per order, since an order is in fulfillment only once.

    On the dispatch's hot path: two reads for the whole batch, and the rows alone (``write_email``, flushed with
    the batch); the sweep gives them their sending jobs within a minute.
    """
    started = {order.id: order for order in orders if order.id in paid_before}
    started = {key: order for key, order in started.items() if order.status == OrderStatus.IN_FULFILLMENT}
    if not started:
        return
    customers = {
        customer.id: customer
        for customer in await uow.session.scalars(
            sa.select(Customer).where(Customer.id.in_({order.customer_id for order in started.values()}))
        )
    }
    names = await _names_by_language(uow, (line.service_id for order in started.values() for line in order.lines))
    for order in sorted(started.values(), key=lambda order: order.id):
        customer = customers[order.customer_id]
        write_email(
            uow,
            to=customer.email,
            template=ORDER_STARTED,
            context=_order_context(order, customer, _in_language(names, customer.locale)),
            locale=customer.locale,
            order_id=order.id,
        )


async def send_refill_requested(uow: UnitOfWork, order: Order, line: OrderLine) -> None:
    """A refill was recorded for a delivered line (by the client or by staff): the client hears it is on its way."""
    await _send_line_mail(uow, REFILL_REQUESTED, order, line, link=line.link)


async def send_refill_done(uow: UnitOfWork, order: Order, line: OrderLine) -> None:
    """The provider reports the refill completed."""
    await _send_line_mail(uow, REFILL_DONE, order, line, link=line.link)


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
