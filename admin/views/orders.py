"""Orders and order lines: fast lists, a details page with lines and timeline, and the business actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin.i18n import get_locale
from sqlalchemy.orm import selectinload
from starlette.requests import Request

from admin.actions import ActionContext, ActionField, ActionsMixin, business_action, done_message
from admin.base import ReadOnlyView, badge, link_to, money, shortened, when
from admin.i18n import admin_gettext, lazy
from admin.labels import state_label
from admin.listing import DateRangeFilter, EnumFilter, FastListMixin, RelatedExistsFilter
from admin.totals import ListTotalsMixin
from admin.views.lines import offered_actions
from app.catalog.models import Service
from app.config import get_settings
from app.fulfillment.attention import stuck_among
from app.fulfillment.queues import provider_options
from app.fulfillment.reasons import line_reasons
from app.i18n import N_, translations
from app.invoicing.services import invoices_of_order
from app.notifications.messages import storefront_url
from app.orders import commands
from app.orders.models import Order, OrderLine
from app.orders.search import order_search_condition, resolved_order_search_condition
from app.orders.services import OrderService
from app.orders.states import FINAL_ORDER_STATES, OrderStatus, PaymentStatus
from app.orders.status_summary import client_status_text, fulfilment_summary
from app.orders.tracking import tracking_facts, tracking_view
from app.payments import refunds
from app.uow import utc_now


def services_summary(order: Order, _attribute: Any) -> Markup:
    items = [f"{line.service_name} × {line.quantity:,}".replace(",", ".") for line in order.lines]
    shown = ", ".join(items[:2]) + (f" +{len(items) - 2}" if len(items) > 2 else "")
    return shortened(shown, 10, full=", ".join(items))


def services_text(order: Order) -> str:
    """The order's lines for an export, each as its service name and quantity (a plain number)."""
    return ", ".join(f"{line.service_name} × {line.quantity}" for line in order.lines)


def number_link(order: Order, _attribute: Any) -> Markup:
    return link_to(f"/admin/order/details/{order.id}", order.number)


def customer_link(order: Order, _attribute: Any) -> Markup:
    """The customer's name; SQLAdmin wraps relation columns in the link to the customer already."""
    return shortened(order.customer.display_name, 9)


class OrderAdmin(FastListMixin, ListTotalsMixin, ActionsMixin, ReadOnlyView, model=Order):
    name = lazy("Order")
    name_plural = lazy("Orders")
    icon = "fa-solid fa-receipt"
    category = lazy("Sales")
    totals_count_label = lazy("Orders")
    totals_columns = {"net": lazy("Net"), "tax": lazy("VAT"), "gross": lazy("Gross")}
    details_template = "smplat/order_details.html"
    column_list = [
        Order.status,
        Order.payment_status,
        Order.number,
        Order.customer,
        "services",
        Order.gross,
        Order.created_at,
    ]
    column_labels = {
        "services": lazy("Services"),
        Order.number: lazy("Number"),
        Order.gross: lazy("Gross"),
        Order.customer: lazy("Customer"),
        Order.status: lazy("Status"),
        Order.payment_status: lazy("Payment"),
        Order.created_at: lazy("Created"),
    }
    column_searchable_list = [Order.number]
    search_auto_submit = False  # a million orders: search on Enter, not on every pause while typing a number
    column_sortable_list = [Order.id, Order.number, Order.created_at]
    column_default_sort = [(Order.id, True)]
    column_filters = [
        EnumFilter(Order.status, OrderStatus, "Status"),
        EnumFilter(Order.payment_status, PaymentStatus, "Payment"),
        RelatedExistsFilter(
            title="Provider",
            parameter_name="provider",
            condition=lambda pk: sa.exists().where(OrderLine.order_id == Order.id, OrderLine.provider_id == pk),
            options=provider_options,
        ),
        RelatedExistsFilter(
            title="Service",
            parameter_name="service",
            condition=lambda pk: sa.exists().where(OrderLine.order_id == Order.id, OrderLine.service_id == pk),
            options=lambda: sa.select(Service.id, Service.name_en).order_by(Service.position, Service.id),
        ),
        DateRangeFilter(Order.created_at, "Created"),
        DateRangeFilter(Order.paid_at, "Paid"),
    ]
    column_formatters = {
        Order.gross: money("gross"),
        Order.status: badge("status"),
        Order.payment_status: badge("payment_status"),
        Order.created_at: when("created_at"),
        "services": services_summary,
        Order.customer: customer_link,
        Order.number: number_link,
    }
    column_details_list = [
        Order.number,
        Order.customer,
        Order.source,
        Order.status,
        Order.payment_status,
        Order.net,
        Order.tax,
        Order.gross,
        Order.tax_treatment,
        Order.tax_rate,
        Order.customer_note,
        Order.created_at,
        Order.paid_at,
        Order.closed_at,
    ]
    column_formatters_detail = {
        Order.net: money("net"),
        Order.tax: money("tax"),
        Order.gross: money("gross"),
        Order.status: badge("status"),
        Order.payment_status: badge("payment_status"),
        Order.created_at: when("created_at"),
        Order.paid_at: when("paid_at"),
        Order.closed_at: when("closed_at"),
        Order.customer: customer_link,
    }
    column_export_list = [
        Order.number,
        "customer.display_name",
        "customer.email",
        "services",
        Order.status,
        Order.payment_status,
        Order.currency,
        Order.net,
        Order.tax,
        Order.gross,
        Order.tax_treatment,
        Order.created_at,
        Order.paid_at,
    ]
    column_export_labels = {
        "customer.display_name": lazy("Customer"),
        "customer.email": lazy("Customer email"),
        "currency": lazy("Currency"),
        "net": lazy("Net"),
        "tax": lazy("Tax"),
        "tax_treatment": lazy("Tax treatment"),
        "paid_at": lazy("Paid"),
    }
    column_export_values = {"services": services_text}

    def list_query(self, request: Request) -> Any:
        # The list shows each line's service name and quantity: no joined service, category and provider per line
        # (nor a decryption of the provider's API key for every line).
        # Chained on the loader: wrapped in .options(), raiseload("*") would not stop the lines' joined eager loads.
        lines = (
            selectinload(Order.lines)
            .load_only(OrderLine.order_id, OrderLine.position, OrderLine.service_name, OrderLine.quantity)
            .raiseload("*")
        )
        return sa.select(Order).options(lines)

    def search_query(self, stmt: Any, term: str) -> Any:
        condition = order_search_condition(term)
        return stmt if condition is None else stmt.where(condition)

    async def search_statement(self, stmt: Any, term: str) -> Any:
        """The list's search: the same rows as ``search_query``, worded after a look at what the term matches."""
        async with self.session_maker(expire_on_commit=False) as session:
            condition = await resolved_order_search_condition(session, term)
        return stmt if condition is None else stmt.where(condition)

    def search_placeholder(self) -> str:
        return str(lazy("Order number, email, name, link"))

    async def details_context(self, request: Request) -> dict[str, Any]:
        order_id = int(request.path_params["pk"])
        now = utc_now()
        async with self.session_maker(expire_on_commit=False) as session:
            order = (await session.scalars(sa.select(Order).where(Order.id == order_id))).unique().one()
            timeline = await OrderService(session=session).timeline(order_id)
            invoices = await invoices_of_order(session, order_id)
            facts = await tracking_facts(session, order_id)
            line_ids = [line.id for line in order.lines]
            offers = await offered_actions(session, line_ids)
            reasons = await line_reasons(session, line_ids)
            stuck = await stuck_among(
                session, line_ids, now=now, stuck_after=timedelta(hours=get_settings().stuck_after_hours)
            )
        request.state.order_final = order.status in FINAL_ORDER_STATES
        refundable = order.payment_status in refunds.REFUNDABLE_STATES
        client_locale = order.customer.locale
        for_client = tracking_view(order, facts, client_locale, now)
        for_staff = tracking_view(order, facts, get_locale(), now)
        return {
            "timeline": timeline,
            "line_offers": offers,
            "line_reasons": reasons,
            "stuck_lines": stuck,
            "refund_actions": REFUND_ACTION_LABELS if refundable else [],
            "invoices": invoices,
            "fulfilment": fulfilment_summary(order.lines),
            "line_progress": {line.position: line for line in for_staff.lines},
            "line_etas": {
                line.position: [text.render(admin_gettext) for text in line.eta_texts] for line in for_staff.lines
            },
            "client_status": client_status_text(
                order.number, for_client.lines, translations(client_locale).gettext, client_locale
            ),
        }

    def _visible_custom_actions(self, request: Request, in_detail: bool = False) -> dict[str, str]:
        """A final order's page offers no cancel (``details_context`` reads the order's state first)."""
        actions: dict[str, str] = super()._visible_custom_actions(request, in_detail)
        if in_detail and getattr(request.state, "order_final", False):
            actions.pop("cancel-order", None)
        return actions

    def describe_for_action(self, order: Order) -> str:
        gross = money("gross")(order, None)
        return f"{order.number} · {order.customer.display_name} · {gross} · {state_label(order.status)}"

    @business_action(
        "cancel-order",
        lazy("Cancel order"),
        danger=True,
        description=lazy(
            "Cancels every line that has not reached a provider, then the order. Lines at a provider "
            "must be canceled there first. Refunds are a separate step."
        ),
        fields=[ActionField("reason", lazy("Reason (shown in the timeline)"), kind="textarea")],
    )
    async def cancel_order(self, ctx: ActionContext) -> str:
        outcomes = await commands.cancel_orders(
            ctx.uow, order_ids=ctx.pks, actor=ctx.actor, reason=ctx.values["reason"]
        )
        canceled = [o.number for o in outcomes if o.status == OrderStatus.CANCELED]
        closed = [o.number for o in outcomes if o.status != OrderStatus.CANCELED]
        messages = []
        if canceled:
            messages.append(done_message(N_("Canceled: %(items)s"), canceled))
        if closed:
            messages.append(
                done_message(
                    N_("Open lines canceled; delivered lines kept, order closed as partially completed: %(items)s"),
                    closed,
                )
            )
        return " ".join(messages)

    @business_action(
        "add-note",
        lazy("Add note"),
        description=lazy("An internal note in the order's timeline; clients never see it."),
        fields=[ActionField("note", lazy("Note"), kind="textarea")],
    )
    async def add_note(self, ctx: ActionContext) -> str:
        orders = await commands.add_note(ctx.uow, order_ids=ctx.pks, actor=ctx.actor, note=ctx.values["note"])
        return done_message(N_("Note added to %(items)s"), [order.number for order in orders])

    @business_action(
        "renew-tracking-link",
        lazy("New tracking link"),
        add_in_list=False,
        show_result=True,
        description=lazy(
            "Creates a new tracking link to send to the client; the previous link stops working. "
            "The link is shown once."
        ),
    )
    async def renew_tracking_link(self, ctx: ActionContext) -> str:
        links = []
        for order_id in sorted(ctx.pks):
            token = await commands.renew_tracking_link(ctx.uow, order_id=order_id, actor=ctx.actor)
            order = await ctx.session.get_one(Order, order_id)
            links.append(f"{order.number}: {storefront_url(f'/track/{token}', order.customer.locale)}")
        return ", ".join(links)


REFUND_ACTION_LABELS = [("refund-line", lazy("Refund line")), ("refund-remains", lazy("Refund remaining share"))]
