"""What a client's data export holds: one customer's rows, read by customer id, as JSON, plus their documents' PDFs.

Every query below is bound to the one customer id (their orders, and through those ids their lines, events and
payments), so an export never carries another client's data. Order events are the ones the client's own timeline
shows (placed, status changes, payment and line states), not staff notes or provider traffic.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from app.customers.commands import PROFILE_FIELDS
from app.customers.models import Customer
from app.invoicing.models import Invoice
from app.invoicing.storage import ensure_pdf
from app.orders.models import EventKind, Order, OrderEvent
from app.payments.models import Payment
from app.portal.models import PortalLoginToken
from app.portal.services import customer_subscriptions

CLIENT_EVENTS = (EventKind.CREATED, EventKind.STATUS, EventKind.PAYMENT_STATUS, EventKind.LINE_STATUS)
PROFILE = ("id", "email", *PROFILE_FIELDS, "created_at")


@dataclass(frozen=True)
class ExportContents:
    data: dict[str, Any]
    files: list[tuple[str, bytes]]  # (name in the ZIP, bytes)


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value) if not isinstance(value, int | bool) else value


def _row(record: Any, fields: Sequence[str]) -> dict[str, Any]:
    return {name: _value(getattr(record, name)) for name in fields}


async def _orders(session: AsyncSession, customer_id: int) -> tuple[list[dict[str, Any]], list[Order]]:
    orders = list(
        (await session.scalars(sa.select(Order).where(Order.customer_id == customer_id).order_by(Order.id)))
        .unique()
        .all()
    )
    events = await session.scalars(
        sa.select(OrderEvent)
        .where(OrderEvent.order_id.in_([order.id for order in orders]), OrderEvent.kind.in_(CLIENT_EVENTS))
        .order_by(OrderEvent.at, OrderEvent.id)
    )
    by_order: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        by_order.setdefault(event.order_id, []).append(
            {
                "at": _value(event.at),
                "kind": str(event.kind),
                "line": event.line.position if event.line is not None else None,
                "from": event.from_state,
                "to": event.to_state,
            }
        )
    shown = []
    for order in orders:
        entry = _row(
            order,
            ("number", "status", "payment_status", "currency", "net", "tax", "gross", "created_at", "paid_at"),
        )
        entry["customer_note"] = order.customer_note
        entry["lines"] = [
            _row(line, ("position", "service_name", "link", "quantity", "comments", "net", "fulfillment_status"))
            for line in sorted(order.lines, key=lambda line: line.position)
        ]
        entry["events"] = by_order.get(order.id, [])
        shown.append(entry)
    return shown, orders


async def _payments(session: AsyncSession, orders: dict[int, str]) -> list[dict[str, Any]]:
    rows = await session.scalars(sa.select(Payment).where(Payment.order_id.in_(orders)).order_by(Payment.id))
    return [
        {"order": orders[payment.order_id]}
        | _row(payment, ("method", "status", "amount", "refunded_amount", "currency", "paid_at"))
        for payment in rows
    ]


async def _documents(session: AsyncSession, customer_id: int) -> tuple[list[dict[str, Any]], list[tuple[str, bytes]]]:
    """Invoices and credit notes with their stored PDFs (rendered and stored first where a job has not yet)."""
    invoices = await session.scalars(
        sa.select(Invoice)
        .where(Invoice.customer_id == customer_id)
        .order_by(Invoice.id)
        .with_for_update()
        .options(undefer(Invoice.pdf))
    )
    shown, files = [], []
    for invoice in invoices:
        name = f"documents/{invoice.number}.pdf"
        files.append((name, await ensure_pdf(session, invoice)))
        shown.append(_row(invoice, ("number", "kind", "issued_at", "currency", "net", "tax", "gross")) | {"file": name})
    return shown, files


async def _portal_logins(session: AsyncSession, customer_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        sa.select(PortalLoginToken).where(PortalLoginToken.customer_id == customer_id).order_by(PortalLoginToken.id)
    )
    return [_row(token, ("created_at", "used_at", "ip")) for token in rows]


async def export_contents(session: AsyncSession, customer: Customer, now: datetime) -> ExportContents:
    """Everything stored about ``customer`` that the export gives them (in the caller's transaction)."""
    orders_shown, orders = await _orders(session, customer.id)
    documents, files = await _documents(session, customer.id)
    subscriptions = [
        _row(row.subscription, ("status", "target_username", "price", "currency", "current_period_end", "created_at"))
        | {"service": row.service.name(customer.locale)}
        for row in await customer_subscriptions(session, customer.id)
    ]
    data = {
        "exported_at": now.isoformat(),
        "customer": _row(customer, PROFILE),
        "orders": orders_shown,
        "payments": await _payments(session, {order.id: order.number for order in orders}),
        "documents": documents,
        "subscriptions": subscriptions,
        "portal_logins": await _portal_logins(session, customer.id),
    }
    return ExportContents(data=data, files=files)


def export_zip(contents: ExportContents) -> bytes:
    """The ZIP the client downloads: ``data.json`` and ``documents/<number>.pdf``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(contents.data, ensure_ascii=False, indent=2))
        for name, content in contents.files:
            archive.writestr(name, content)
    return buffer.getvalue()
