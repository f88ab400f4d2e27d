"""Invoices and credit notes: read-only (they are legal documents, immutable once issued), with their PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin import expose
from sqlalchemy.sql import Select
from starlette.requests import Request
from starlette.responses import Response

from admin import sqladmin_compat as compat
from admin.actions import ActionContext, ActionsMixin, business_action, done_message
from admin.base import ReadOnlyView, badge_html, day, link_to, money, shortened, when
from admin.i18n import admin_gettext, lazy
from admin.listing import EnumFilter, FastListMixin
from admin.roles import role_may
from admin.views.invoice_corrections import InvoiceCorrectionsMixin, credit_state, with_credit_state
from admin.views.records import order_link, with_order_number
from app.i18n import N_
from app.invoicing.facturx import attached_xml
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.resending import resend_invoices
from app.lexoffice.commands import retry_sync
from app.lexoffice.models import LexofficeSync, SyncStatus
from app.validation import parse_id

LIST_REASON_LENGTH = 60


def customer_of(record: Any, _attribute: Any) -> Markup:
    buyer = record.buyer or {}
    name = buyer.get("company") or buyer.get("name") or buyer.get("email")
    return link_to(f"/admin/customer/details/{record.customer_id}", shortened(name, 7))


def pdf_link(record: Any, _attribute: Any) -> Markup | str:
    if record.pdf_sha256 is None:
        return admin_gettext(N_("being rendered"))
    pdf = Markup('<a href="/admin/invoice/pdf/{}" title="{}">PDF</a>').format(
        record.id, admin_gettext(N_("Download PDF"))
    )
    return Markup("{} · {}").format(pdf, link_to(f"/admin/invoice/xml/{record.id}", "XML"))


def lexoffice_status(reason_length: int | None) -> Callable[[Any, Any], Markup | str]:
    """The booking in Lexware Office: a badge, and for a failure what Lexware Office said (shortened in lists)."""

    def format_value(record: Any, _attribute: Any) -> Markup | str:
        sync: LexofficeSync | None = record.lexoffice_sync
        if sync is None:
            return admin_gettext(N_("not queued"))
        if sync.status != SyncStatus.FAILED or not sync.last_error:
            return badge_html(sync.status)
        reason = sync.last_error
        if reason_length is not None and len(reason) > reason_length:
            reason = reason[: reason_length - 1] + "…"
        return Markup('{} <span class="d-block small text-secondary text-wrap text-break" title="{}">{}</span>').format(
            badge_html(sync.status), sync.last_error, reason
        )

    return format_value


class LexofficeSyncFilter:
    """Invoices by their booking in Lexware Office; unknown values are ignored, never an error."""

    has_operator = False
    default_value: Any = compat.UNSET
    template = "sqladmin/filters/lookup_filter.html"
    parameter_name = "lexoffice"
    CHOICES: dict[str, Any] = {
        "pending": LexofficeSync.status.in_([SyncStatus.PENDING, SyncStatus.VOUCHER_CREATED]),
        "synced": LexofficeSync.status == SyncStatus.SYNCED,
        "failed": LexofficeSync.status == SyncStatus.FAILED,
    }

    def __init__(self) -> None:
        self.title: str = lazy("Lexware Office")

    async def lookups(self, request: Request, model: Any, run_query: Any) -> list[tuple[str, str]]:
        return [
            ("__all", lazy("All")),
            ("pending", admin_gettext(N_("sync pending"))),
            ("synced", admin_gettext(N_("synced"))),
            ("failed", admin_gettext(N_("sync failed"))),
            ("none", admin_gettext(N_("not queued"))),
        ]

    async def get_filtered_query(self, query: Select[Any], value: Any, model: Any) -> Select[Any]:
        rows = sa.select(LexofficeSync.id).where(LexofficeSync.invoice_id == Invoice.id)
        if value == "none":
            return query.where(~rows.exists())
        if value in self.CHOICES:
            return query.where(rows.where(self.CHOICES[value]).exists())
        return query


class InvoiceAdmin(InvoiceCorrectionsMixin, ActionsMixin, FastListMixin, ReadOnlyView, model=Invoice):
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
        "credit",
        "lexoffice_sync",
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
        "credit",
        Invoice.currency,
        Invoice.tax_treatment,
        Invoice.legal_note,
        Invoice.locale,
        Invoice.pdf_sha256,
        "download",
        "lexoffice_sync",
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
        "credit": lazy("Credit notes"),
        "lexoffice_sync": lazy("Lexware Office"),
    }
    column_searchable_list = [Invoice.number]
    column_sortable_list = [Invoice.number, Invoice.issued_at, Invoice.gross]
    column_filters = [EnumFilter(Invoice.kind, InvoiceKind, "Kind"), LexofficeSyncFilter()]
    column_default_sort = [(Invoice.id, True)]
    column_formatters = {
        "order": order_link,
        "customer": customer_of,
        "download": pdf_link,
        "credit": credit_state,
        "lexoffice_sync": lexoffice_status(LIST_REASON_LENGTH),
        Invoice.issued_at: day("issued_at"),
        Invoice.gross: money("gross"),
    }
    column_formatters_detail = {
        "order": order_link,
        "customer": customer_of,
        "download": pdf_link,
        "credit": credit_state,
        "lexoffice_sync": lexoffice_status(None),
        Invoice.issued_at: when("issued_at"),
        Invoice.net: money("net"),
        Invoice.tax: money("tax"),
        Invoice.gross: money("gross"),
    }

    def search_placeholder(self) -> str:
        return str(lazy("Invoice number"))

    def list_query(self, request: Request) -> Any:
        return with_credit_state(with_order_number(sa.select(Invoice), Invoice))

    def details_query(self, request: Request) -> Any:
        return with_credit_state(with_order_number(super().details_query(request), Invoice))

    async def get_object_for_details(self, request: Request) -> Any:
        invoice = await super().get_object_for_details(request)
        credited = -(invoice.credited or 0) if invoice is not None else 0
        is_invoice = invoice is not None and invoice.kind == InvoiceKind.INVOICE
        request.state.creditable = is_invoice and credited < invoice.gross
        request.state.replaceable = is_invoice and credited == 0
        return invoice

    def _visible_custom_actions(self, request: Request, in_detail: bool = False) -> dict[str, str]:
        """A credit note's page offers neither correction; an invoice credited in full no credit note, one credited
        at all no replacement (read with the record, ``get_object_for_details``)."""
        actions: dict[str, str] = super()._visible_custom_actions(request, in_detail)
        if in_detail and not getattr(request.state, "creditable", False):
            actions.pop("issue-credit-note", None)
        if in_detail and not getattr(request.state, "replaceable", False):
            actions.pop("cancel-and-reissue", None)
        return actions

    def describe_for_action(self, invoice: Invoice) -> str:
        return f"{invoice.number} · {money('gross')(invoice, None)}"

    @business_action(
        "retry-lexoffice-sync",
        lazy("Retry sync"),
        description=lazy(
            "The selected invoices are booked in Lexware Office again now: a voucher that exists there is completed "
            "with its PDF, never booked twice. Fix what Lexware Office refused first."
        ),
    )
    async def retry_lexoffice_sync(self, ctx: ActionContext) -> str:
        numbers = await retry_sync(ctx.uow, ctx.pks, ctx.actor)
        return done_message(N_("Queued for Lexware Office: %(items)s"), numbers)

    @business_action(
        "resend-by-email",
        lazy("Send by email again"),
        description=lazy(
            "Each selected invoice or credit note goes to the client's current email address once more, with its "
            "stored PDF attached."
        ),
    )
    async def resend_by_email(self, ctx: ActionContext) -> str:
        numbers = await resend_invoices(ctx.uow, ctx.pks, ctx.actor)
        return done_message(N_("Sent again by email: %(items)s"), numbers)

    @expose("/pdf/{pk}")
    async def download_pdf(self, request: Request) -> Response:
        """The stored PDF, the same bytes every time (its SHA-256 is on the invoice)."""
        return await self._download(request, "pdf")

    @expose("/xml/{pk}")
    async def download_xml(self, request: Request) -> Response:
        """The EN 16931 XML the stored PDF carries, for software that reads e-invoices but not PDFs."""
        return await self._download(request, "xml")

    async def _download(self, request: Request, kind: str) -> Response:
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
        body = row.pdf if kind == "pdf" else attached_xml(row.pdf)
        if body is None:
            return Response(admin_gettext(N_("This PDF carries no e-invoice XML.")), status_code=404)
        return Response(
            body,
            media_type="application/pdf" if kind == "pdf" else "application/xml",
            headers={"Content-Disposition": f'attachment; filename="{row.number}.{kind}"'},
        )
