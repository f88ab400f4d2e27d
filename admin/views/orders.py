"""Orders and order lines: fast lists, a details page with lines and timeline, and the business actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin.i18n import get_locale
from sqlalchemy.orm import selectinload
from starlette.requests import Request

from admin.actions import ActionContext, ActionField, ActionsMixin, business_action, done_message
from admin.base import ReadOnlyView, badge, link_to, money, when
from admin.i18n import admin_gettext, lazy
from admin.listing import DateRangeFilter, EnumFilter, FastListMixin, RelatedExistsFilter
from app import i18n
from app.catalog.models import Service
from app.errors import DomainError
from app.fulfillment import cancels
from app.fulfillment import commands as fulfillment
from app.fulfillment.commands import DispatchFinding
from app.fulfillment.models import Provider
from app.i18n import N_
from app.invoicing.services import invoices_of_order
from app.orders import commands
from app.orders.models import Order, OrderLine
from app.orders.search import line_search_condition, order_search_condition, resolved_order_search_condition
from app.orders.services import OrderService
from app.orders.states import LineStatus, OrderStatus, PaymentStatus
from app.payments import refunds
from app.payments.refund_flow import refund_line
from app.payments.refunds import RefundAmount


def services_summary(order: Order, _attribute: Any) -> Markup:
    items = [f"{line.service_name} × {line.quantity:,}".replace(",", ".") for line in order.lines]
    shown = ", ".join(items[:2]) + (f" +{len(items) - 2}" if len(items) > 2 else "")
    return Markup(
        '<span class="d-inline-block text-truncate align-bottom" style="max-width: 15rem" title="{}">{}</span>'
    ).format(", ".join(items), shown)


def services_text(order: Order) -> str:
    """The order's lines for an export, each as its service name and quantity (a plain number)."""
    return ", ".join(f"{line.service_name} × {line.quantity}" for line in order.lines)


def customer_link(order: Order, _attribute: Any) -> Markup:
    """The customer's name; SQLAdmin wraps relation columns in the link to the customer already."""
    return Markup('<span class="d-inline-block text-truncate align-bottom" style="max-width: 11rem">{}</span>').format(
        order.customer.display_name
    )


class OrderAdmin(FastListMixin, ActionsMixin, ReadOnlyView, model=Order):
    name = lazy("Order")
    name_plural = lazy("Orders")
    icon = "fa-solid fa-receipt"
    category = lazy("Sales")
    details_template = "smplat/order_details.html"
    column_list = [
        Order.number,
        Order.customer,
        "services",
        Order.gross,
        Order.status,
        Order.payment_status,
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
            options=lambda: sa.select(Provider.id, Provider.name).order_by(Provider.name),
        ),
        RelatedExistsFilter(
            title="Service",
            parameter_name="service",
            condition=lambda pk: sa.exists().where(OrderLine.order_id == Order.id, OrderLine.service_id == pk),
            options=lambda: sa.select(Service.id, Service.name_en).order_by(Service.position, Service.id),
        ),
        DateRangeFilter(Order.created_at, "Created"),
    ]
    column_formatters = {
        Order.gross: money("gross"),
        Order.status: badge("status"),
        Order.payment_status: badge("payment_status"),
        Order.created_at: when("created_at"),
        "services": services_summary,
        Order.customer: customer_link,
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
        async with self.session_maker(expire_on_commit=False) as session:
            timeline = await OrderService(session=session).timeline(order_id)
            payment_status = await session.scalar(sa.select(Order.payment_status).where(Order.id == order_id))
            invoices = await invoices_of_order(session, order_id)
        refundable = payment_status in refunds.REFUNDABLE_STATES
        return {
            "timeline": timeline,
            "line_actions": LINE_ACTION_LABELS,
            "refund_actions": REFUND_ACTION_LABELS if refundable else [],
            "invoices": invoices,
        }

    def describe_for_action(self, order: Order) -> str:
        return f"{order.number} · {order.customer.display_name} · {order.gross} {order.currency} · {order.status}"

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


def line_names(locked: Sequence[tuple[Order, OrderLine]]) -> list[str]:
    return [f"{order.number}/{line.position}" for order, line in locked]


def line_order_link(line: OrderLine, _attribute: Any) -> Markup:
    return link_to(f"/admin/order/details/{line.order_id}", line.order.number)


def progress(line: OrderLine, _attribute: Any) -> Markup | str:
    share = line.progress
    if share is None:
        return "–"
    percent = round(share * 100)
    return Markup(
        '<div class="progress progress-sm" style="min-width:80px" title="{}%"><div class="progress-bar" '
        'style="width: {}%"></div></div>'
    ).format(percent, percent)


class OrderLineAdmin(FastListMixin, ActionsMixin, ReadOnlyView, model=OrderLine):
    name = lazy("Order line")
    name_plural = lazy("Order lines")
    icon = "fa-solid fa-list-check"
    category = lazy("Fulfillment")
    column_list = [
        OrderLine.id,
        OrderLine.order,
        OrderLine.service_name,
        OrderLine.link,
        OrderLine.quantity,
        OrderLine.fulfillment_status,
        OrderLine.provider,
        OrderLine.provider_order_id,
        "progress",
        OrderLine.updated_at,
    ]
    column_labels = {
        OrderLine.order: lazy("Order"),
        OrderLine.service_name: lazy("Service"),
        OrderLine.fulfillment_status: lazy("Fulfillment"),
        OrderLine.provider_order_id: lazy("Provider order"),
        "progress": lazy("Progress"),
        OrderLine.updated_at: lazy("Updated"),
    }
    column_searchable_list = [OrderLine.link, OrderLine.provider_order_id]
    column_sortable_list = [OrderLine.id, OrderLine.updated_at]
    column_default_sort = [(OrderLine.id, True)]
    column_filters = [EnumFilter(OrderLine.fulfillment_status, LineStatus, "Fulfillment")]
    column_formatters = {
        OrderLine.order: line_order_link,
        OrderLine.fulfillment_status: badge("fulfillment_status"),
        OrderLine.updated_at: when("updated_at"),
        "progress": progress,
    }
    column_formatters_detail = {
        OrderLine.order: line_order_link,
        OrderLine.fulfillment_status: badge("fulfillment_status"),
        OrderLine.net: money("net", "order.currency"),
        OrderLine.dispatched_at: when("dispatched_at"),
        OrderLine.finished_at: when("finished_at"),
        OrderLine.next_poll_at: when("next_poll_at"),
        OrderLine.last_progress_at: when("last_progress_at"),
    }
    column_details_exclude_list = [OrderLine.service]
    column_export_list = [
        OrderLine.id,
        "order.number",
        OrderLine.position,
        OrderLine.service_name,
        OrderLine.link,
        OrderLine.quantity,
        OrderLine.fulfillment_status,
        "provider.name",
        OrderLine.provider_order_id,
        OrderLine.start_count,
        OrderLine.remains,
        OrderLine.updated_at,
    ]
    column_export_labels = {
        "order.number": lazy("Order"),
        "position": lazy("Line"),
        "link": lazy("Link"),
        "quantity": lazy("Quantity"),
        "provider.name": lazy("Provider"),
        "start_count": lazy("Start count"),
        "remains": lazy("Remains"),
    }

    def search_query(self, stmt: Any, term: str) -> Any:
        return stmt.where(line_search_condition(term))

    def action_query(self) -> Any:
        return sa.select(OrderLine).options(selectinload(OrderLine.order))

    def describe_for_action(self, line: OrderLine) -> str:
        return (
            f"{line.order.number} · line {line.position} · {line.service_name} × {line.quantity} · "
            f"{line.fulfillment_status}"
        )

    @business_action(
        "hold-line",
        lazy("Hold"),
        description=lazy("Keeps queued lines from being dispatched until they are resumed."),
        fields=[ActionField("reason", lazy("Reason"), kind="textarea")],
    )
    async def hold_line(self, ctx: ActionContext) -> str:
        held = await commands.hold_lines(ctx.uow, line_ids=ctx.pks, actor=ctx.actor, reason=ctx.values["reason"])
        return done_message(N_("On hold: %(items)s"), line_names(held))

    @business_action("resume-line", lazy("Resume"), description=lazy("Puts held lines back into the dispatch queue."))
    async def resume_line(self, ctx: ActionContext) -> str:
        resumed = await commands.resume_lines(ctx.uow, line_ids=ctx.pks, actor=ctx.actor)
        return done_message(N_("Resumed: %(items)s"), line_names(resumed))

    @business_action(
        "retry-dispatch",
        lazy("Retry dispatch"),
        description=lazy("Failed lines go back into the dispatch queue, to be sent to the provider again."),
        fields=[ActionField("note", lazy("Note"), required=False)],
    )
    async def retry_dispatch(self, ctx: ActionContext) -> str:
        queued = await fulfillment.retry_dispatch(
            ctx.uow, line_ids=ctx.pks, actor=ctx.actor, note=ctx.values.get("note") or None
        )
        return done_message(N_("Queued again: %(items)s"), line_names(queued))

    @business_action(
        "resolve-dispatch",
        lazy("Resolve dispatch"),
        add_in_list=False,
        description=lazy(
            "The request may or may not have reached the provider. Check the provider's panel: enter "
            "its order id if the order exists there, or confirm that it was not placed to send it "
            "again. Never both."
        ),
        fields=[
            ActionField(
                "outcome",
                lazy("What did you find at the provider?"),
                kind="choice",
                choices=[
                    (DispatchFinding.FOUND, lazy("The order exists there")),
                    (DispatchFinding.NOT_PLACED, lazy("It was not placed: dispatch again")),
                ],
            ),
            ActionField("upstream_order_id", lazy("Provider's order id (when it exists)"), required=False),
        ],
    )
    async def resolve_dispatch(self, ctx: ActionContext) -> str:
        resolved = await fulfillment.resolve_unknown_dispatch(
            ctx.uow,
            line_ids=ctx.pks,
            actor=ctx.actor,
            finding=DispatchFinding(ctx.values["outcome"]),
            upstream_order_id=ctx.values.get("upstream_order_id") or None,
        )
        return done_message(N_("Resolved: %(items)s"), line_names(resolved))

    @business_action(
        "request-refill",
        lazy("Request refill"),
        description=lazy("Asks the provider to refill delivered lines within their refill window."),
    )
    async def request_refill(self, ctx: ActionContext) -> str:
        refilled = await fulfillment.request_refill(ctx.uow, line_ids=ctx.pks, actor=ctx.actor)
        return done_message(N_("Refill requested: %(items)s"), line_names(refilled))

    @business_action(
        "request-cancel",
        lazy("Request cancel at provider"),
        danger=True,
        description=lazy(
            "Asks the provider to cancel lines it is working on (where its service allows cancels). The line "
            "ends canceled once the provider reports it, and what was not delivered is refunded then."
        ),
    )
    async def request_cancel(self, ctx: ActionContext) -> str:
        asked = await cancels.request_cancel(ctx.uow, line_ids=ctx.pks, actor=ctx.actor)
        return done_message(N_("Cancel requested at the provider: %(items)s"), line_names(asked))

    async def refund_preview(self, pks: list[int], kind: RefundAmount) -> list[str]:
        async with self.session_maker(expire_on_commit=False) as session:
            quotes = await refunds.quote_refunds(session, pks, kind)
        locale = get_locale()
        return [
            admin_gettext(N_("%(line)s: refund %(amount)s (line share %(share)s, refunded so far %(refunded)s)"))
            % {
                "line": f"{quote.order_number}/{quote.position}",
                "amount": i18n.format_money(quote.amount, quote.currency, locale),
                "share": i18n.format_money(quote.share, quote.currency, locale),
                "refunded": i18n.format_money(quote.refunded, quote.currency, locale),
            }
            for quote in quotes
        ]

    async def full_refund_preview(self, pks: list[int]) -> list[str]:
        return await self.refund_preview(pks, RefundAmount.FULL)

    async def remains_refund_preview(self, pks: list[int]) -> list[str]:
        return await self.refund_preview(pks, RefundAmount.REMAINING_SHARE)

    async def refund(self, ctx: ActionContext, kind: RefundAmount) -> str:
        if len(ctx.pks) != 1:
            raise DomainError(N_("Refund one line at a time: each refund moves money on its own."))
        if ctx.payments is None:
            raise DomainError(N_("No payment processor is configured: refunds are not possible."))
        outcome = await refund_line(
            ctx.sessions,
            ctx.payments,
            line_id=ctx.pks[0],
            actor=ctx.actor,
            reason=ctx.values["reason"],
            kind=kind,
            ip=ctx.ip,
        )
        values = {
            "amount": i18n.format_money(outcome.amount, outcome.currency, get_locale()),
            "line": f"{outcome.order_number}/{outcome.line_position}",
            "state": admin_gettext(outcome.status.value),
        }
        template = (
            N_("The pending refund of %(amount)s for %(line)s was sent again: %(state)s")
            if outcome.resumed
            else N_("Refund of %(amount)s for %(line)s: %(state)s")
        )
        return admin_gettext(template) % values

    @business_action(
        "refund-line",
        lazy("Refund line"),
        danger=True,
        opens_units=True,
        preview=full_refund_preview,
        description=lazy(
            "Gives back what is left of the line's share of the payment (its net plus its share of the VAT) "
            "through Stripe. A refund of the line that is still pending is sent again instead."
        ),
        fields=[ActionField("reason", lazy("Reason (shown in the timeline)"), kind="textarea")],
    )
    async def refund_full_line(self, ctx: ActionContext) -> str:
        return await self.refund(ctx, RefundAmount.FULL)

    @business_action(
        "refund-remains",
        lazy("Refund remaining share"),
        danger=True,
        opens_units=True,
        preview=remains_refund_preview,
        description=lazy(
            "Gives back the share of the payment for the units the provider did not deliver (the line's "
            "remains), less what was refunded for the line already, through Stripe."
        ),
        fields=[ActionField("reason", lazy("Reason (shown in the timeline)"), kind="textarea")],
    )
    async def refund_remains(self, ctx: ActionContext) -> str:
        return await self.refund(ctx, RefundAmount.REMAINING_SHARE)


REFUND_ACTION_LABELS = [("refund-line", lazy("Refund line")), ("refund-remains", lazy("Refund remaining share"))]

LINE_ACTION_LABELS = {
    LineStatus.QUEUED: [("hold-line", lazy("Hold"))],
    LineStatus.ON_HOLD: [("resume-line", lazy("Resume"))],
    LineStatus.FAILED: [("retry-dispatch", lazy("Retry dispatch"))],
    LineStatus.DISPATCH_UNKNOWN: [("resolve-dispatch", lazy("Resolve dispatch"))],
    LineStatus.NEEDS_REVIEW: [("resolve-dispatch", lazy("Resolve dispatch"))],
    LineStatus.DISPATCHED: [("request-cancel", lazy("Request cancel at provider"))],
    LineStatus.IN_PROGRESS: [("request-cancel", lazy("Request cancel at provider"))],
    LineStatus.COMPLETED: [("request-refill", lazy("Request refill"))],
    LineStatus.PARTIAL: [("request-refill", lazy("Request refill"))],
}
