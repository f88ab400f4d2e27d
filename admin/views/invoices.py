"""Invoices and credit notes: read-only (they are legal documents, immutable once issued), with their PDF."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin import expose
from starlette.requests import Request
from starlette.responses import Response

from admin.base import ReadOnlyView, link_to, money, when
from admin.i18n import admin_gettext, lazy
from admin.listing import EnumFilter, FastListMixin
from admin.roles import role_may
from app.i18n import N_
from app.invoicing.models import Invoice, InvoiceKind
from app.validation import parse_id


def order_link(record: Any, _attribute: Any) -> Markup:
    return link_to(f"/admin/order/details/{record.order_id}", f"#{record.order_id}")


def customer_of(record: Any, _attribute: Any) -> Markup:
    buyer = record.buyer or {}
    return link_to(
        f"/admin/customer/details/{record.customer_id}", buyer.get("company") or buyer.get("name") or buyer.get("email")
    )


def pdf_link(record: Any, _attribute: Any) -> Markup | str:
    if record.pdf_sha256 is None:
        return admin_gettext(N_("being rendered"))
    return link_to(f"/admin/invoice/pdf/{record.id}", admin_gettext(N_("Download PDF")))


class InvoiceAdmin(FastListMixin, ReadOnlyView, model=Invoice):
    name = lazy("Invoice")
    name_plural = lazy("Invoices")
    icon = "fa-solid fa-file-invoice"
    category = lazy("Sales")
    can_export = False
    column_list = [
        Invoice.number,
        Invoice.kind,
        "order",
        "customer",
        Invoice.issued_at,
        Invoice.gross,
        Invoice.tax_treatment,
        "download",
    ]
    column_details_list = [
        Invoice.number,
        Invoice.kind,
        "order",
        "customer",
        Invoice.issued_at,
        Invoice.service_from,
        Invoice.service_to,
        Invoice.net,
        Invoice.tax,
        Invoice.gross,
        Invoice.currency,
        Invoice.tax_treatment,
        Invoice.legal_note,
        Invoice.locale,
        Invoice.pdf_sha256,
        "download",
    ]
    column_labels = {
        Invoice.number: lazy("Number"),
        Invoice.kind: lazy("Kind"),
        Invoice.issued_at: lazy("Invoice date"),
        Invoice.service_from: lazy("Service from"),
        Invoice.service_to: lazy("Service to"),
        Invoice.net: lazy("Net"),
        Invoice.tax: lazy("Tax"),
        Invoice.gross: lazy("Gross"),
        Invoice.currency: lazy("Currency"),
        Invoice.tax_treatment: lazy("Tax treatment"),
        Invoice.legal_note: lazy("Legal note"),
        Invoice.locale: lazy("Language"),
        Invoice.pdf_sha256: lazy("PDF SHA-256"),
        "order": lazy("Order"),
        "customer": lazy("Customer"),
        "download": lazy("PDF"),
    }
    column_searchable_list = [Invoice.number]
    column_sortable_list = [Invoice.number, Invoice.issued_at, Invoice.gross]
    column_filters = [EnumFilter(Invoice.kind, InvoiceKind, "Kind")]
    column_default_sort = [(Invoice.id, True)]
    column_formatters = {
        "order": order_link,
        "customer": customer_of,
        "download": pdf_link,
        Invoice.issued_at: when("issued_at"),
        Invoice.gross: money("gross"),
    }
    column_formatters_detail = {
        "order": order_link,
        "customer": customer_of,
        "download": pdf_link,
        Invoice.issued_at: when("issued_at"),
        Invoice.net: money("net"),
        Invoice.tax: money("tax"),
        Invoice.gross: money("gross"),
    }

    def search_placeholder(self) -> str:
        return str(lazy("Invoice number"))

    @expose("/pdf/{pk}")
    async def download_pdf(self, request: Request) -> Response:
        """The stored PDF, the same bytes every time (its SHA-256 is on the invoice)."""
        staff: Any = getattr(request.state, "staff", None)
        if staff is None or not role_may(staff.role, self.identity, "details"):
            return Response(admin_gettext(N_("You may not open this page.")), status_code=403)
        invoice_id = parse_id(str(request.path_params["pk"]))
        async with self.session_maker() as session:
            row = (
                await session.execute(sa.select(Invoice.number, Invoice.pdf).where(Invoice.id == invoice_id))
            ).one_or_none()
        if row is None or row.pdf is None:
            return Response(admin_gettext(N_("This invoice has no PDF yet.")), status_code=404)
        return Response(
            row.pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{row.number}.pdf"'},
        )
