"""Read-only records: payments, order events, Stripe events, subscriptions, the audit trail."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin.i18n import get_locale
from starlette.requests import Request

from admin.actions import ActionContext, ActionsMixin, business_action
from admin.base import ReadOnlyView, badge, link_to, money, shortened, when
from admin.i18n import admin_gettext, lazy
from admin.labels import event_label, event_note, field_label, state_label
from admin.listing import DateRangeFilter, EnumFilter, FastListMixin
from admin.totals import ListTotalsMixin
from app import i18n
from app.audit.models import AuditLog
from app.db.search import contains_pattern
from app.errors import DomainError
from app.i18n import N_
from app.orders.event_notes import NOTE_KEY
from app.orders.models import Order, OrderEvent, OrderLine
from app.orders.search import order_number_condition
from app.payments.models import Payment, PaymentRecordStatus, Refund, StripeEvent, Subscription
from app.payments.subscription_flow import cancel_at_period_end


def order_link(record: Any, _attribute: Any) -> Markup:
    """The order's number where the record has it loaded (``order_number``), else its id."""
    shown = getattr(record, "order_number", None) or f"#{record.order_id}"
    return link_to(f"/admin/order/details/{record.order_id}", shown)


def order_number_of(order_id: Any) -> Any:
    """The number of the order ``order_id`` names, as a column of a list's statement."""
    return sa.select(Order.number).where(Order.id == order_id).scalar_subquery()


def with_order_number(stmt: Any, model: Any) -> Any:
    """``stmt`` loading each record's ``order_number`` (a query expression) from its ``order_id``."""
    return stmt.options(sa.orm.with_expression(model.order_number, order_number_of(model.order_id)))


def stripe_reference(payment: Payment, _attribute: Any) -> Markup | str:
    """The checkout session id, shortened (the full id on hover)."""
    reference = payment.stripe_checkout_session_id
    if not reference:
        return "–"
    return shortened(reference, 9)


class PaymentAdmin(FastListMixin, ListTotalsMixin, ReadOnlyView, model=Payment):
    name = lazy("Payment")
    name_plural = lazy("Payments")
    icon = "fa-solid fa-credit-card"
    category = lazy("Sales")
    column_list = [
        Payment.status,
        "order",
        Payment.method,
        Payment.amount,
        Payment.refunded_amount,
        Payment.paid_at,
        Payment.stripe_checkout_session_id,
    ]
    column_labels = {"order": lazy("Order"), Payment.refunded_amount: lazy("Refunded")}
    column_searchable_list = [Payment.stripe_checkout_session_id, Payment.stripe_payment_intent_id]
    column_default_sort = [(Payment.id, True)]
    column_filters = [
        EnumFilter(Payment.status, PaymentRecordStatus, "Status"),
        DateRangeFilter(Payment.paid_at, "Paid"),
        DateRangeFilter(Payment.created_at, "Created"),
    ]
    column_formatters = {
        "order": order_link,
        Payment.status: badge("status"),
        Payment.amount: money("amount"),
        Payment.refunded_amount: money("refunded_amount"),
        Payment.paid_at: when("paid_at"),
        Payment.stripe_checkout_session_id: stripe_reference,
    }
    totals_count_label = lazy("Payments")
    totals_columns = {"amount": lazy("Amount"), "refunded_amount": lazy("Refunded")}

    def list_query(self, request: Request) -> Any:
        return with_order_number(sa.select(Payment), Payment)

    def search_query(self, stmt: Any, term: str) -> Any:
        """A Stripe id (or part of one), or the order's number (or part of it)."""
        pattern = contains_pattern(term.strip())
        matches = [Payment.stripe_checkout_session_id.ilike(pattern), Payment.stripe_payment_intent_id.ilike(pattern)]
        number = order_number_condition(term)
        if number is not None:
            matches.append(Payment.order_id.in_(sa.select(Order.id).where(number)))
        return stmt.where(sa.or_(*matches))

    def search_placeholder(self) -> str:
        return str(lazy("Order number, Stripe id"))

    column_formatters_detail = {Payment.amount: money("amount"), Payment.refunded_amount: money("refunded_amount")}
    column_details_exclude_list = [Payment.order_number]  # loaded for the list only
    column_export_list = [
        Payment.id,
        Payment.order_id,
        Payment.method,
        Payment.status,
        Payment.amount,
        Payment.refunded_amount,
        Payment.currency,
        Payment.paid_at,
        Payment.stripe_checkout_session_id,
        Payment.stripe_payment_intent_id,
    ]
    column_export_labels = {
        "order_id": lazy("Order ID"),
        "method": lazy("Method"),
        "status": lazy("Status"),
        "amount": lazy("Amount"),
        "currency": lazy("Currency"),
        "paid_at": lazy("Paid"),
        "stripe_checkout_session_id": lazy("Stripe checkout session"),
        "stripe_payment_intent_id": lazy("Stripe payment intent"),
    }


def refund_order_link(refund: Refund, _attribute: Any) -> Markup | str:
    return "–" if refund.order_id is None else order_link(refund, _attribute)


def line_link(refund: Refund, _attribute: Any) -> Markup | str:
    if refund.order_line_id is None:
        return "–"
    return link_to(f"/admin/order-line/details/{refund.order_line_id}", refund.line_name or f"#{refund.order_line_id}")


def with_refund_order(stmt: Any) -> Any:
    """Each refund with its order (through its payment) and its line's name, for the list and the page."""
    order_id = sa.select(Payment.order_id).where(Payment.id == Refund.payment_id).scalar_subquery()
    line_name = (
        sa.select(Order.number + "/" + sa.cast(OrderLine.position, sa.Text))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(OrderLine.id == Refund.order_line_id)
        .scalar_subquery()
    )
    # Joined, not nested: a subquery inside the order's subquery would not see the refund row (each refund got
    # every refund's order).
    order_number = (
        sa.select(Order.number)
        .join(Payment, Payment.order_id == Order.id)
        .where(Payment.id == Refund.payment_id)
        .scalar_subquery()
    )
    return stmt.options(
        sa.orm.with_expression(Refund.order_id, order_id),
        sa.orm.with_expression(Refund.order_number, order_number),
        sa.orm.with_expression(Refund.line_name, line_name),
    )


class RefundAdmin(FastListMixin, ReadOnlyView, model=Refund):
    """Refunds are made by the order line actions and by Stripe; here they are only read."""

    name = lazy("Refund")
    name_plural = lazy("Refunds")
    icon = "fa-solid fa-rotate-left"
    category = lazy("Sales")
    can_export = False  # refund figures reach finance through the revenue reports, with their credit notes
    column_list = [
        Refund.status,
        "order",
        "line",
        Refund.amount,
        Refund.reason,
        Refund.requested_by,
        Refund.created_at,
    ]
    column_labels = {
        "order": lazy("Order"),
        "line": lazy("Order line"),
        Refund.status: lazy("Status"),
        Refund.amount: lazy("Amount"),
        Refund.reason: lazy("Reason"),
        Refund.requested_by: lazy("Requested by"),
        Refund.created_at: lazy("Created"),
    }
    column_searchable_list = [Refund.stripe_refund_id, Refund.idempotency_key]
    column_default_sort = [(Refund.id, True)]
    column_formatters = {
        "order": refund_order_link,
        "line": line_link,
        Refund.status: badge("status"),
        Refund.amount: money("amount"),
        Refund.created_at: when("created_at"),
    }
    column_formatters_detail = {
        "order": refund_order_link,
        "line": line_link,
        Refund.amount: money("amount"),
        Refund.status: badge("status"),
    }
    column_details_exclude_list = [Refund.order_id, Refund.order_number, Refund.line_name]

    def list_query(self, request: Request) -> Any:
        return with_refund_order(sa.select(Refund))

    def details_query(self, request: Request) -> Any:
        return with_refund_order(super().details_query(request))


def note_text(event: OrderEvent, _attribute: Any) -> str:
    return event_note(event) or ""


def event_data(event: OrderEvent, _attribute: Any) -> Markup:
    """What the event recorded, as data (the note's own parameters are shown as the note)."""
    data = {key: value for key, value in (event.data or {}).items() if key != NOTE_KEY}
    if not data:
        return Markup("–")
    return Markup('<pre class="mb-0">{}</pre>').format(json.dumps(data, ensure_ascii=False, indent=2))


class OrderEventAdmin(FastListMixin, ReadOnlyView, model=OrderEvent):
    name = lazy("Order event")
    name_plural = lazy("Order events")
    icon = "fa-solid fa-timeline"
    category = lazy("Sales")
    column_list = [
        OrderEvent.at,
        "order",
        OrderEvent.kind,
        OrderEvent.from_state,
        OrderEvent.to_state,
        OrderEvent.actor_label,
        OrderEvent.note,
    ]
    column_labels = {"order": lazy("Order"), OrderEvent.actor_label: lazy("Who")}
    column_default_sort = [(OrderEvent.id, True)]
    column_formatters = {"order": order_link, OrderEvent.at: when("at"), OrderEvent.note: note_text}
    column_formatters_detail = {OrderEvent.at: when("at"), OrderEvent.note: note_text, OrderEvent.data: event_data}
    column_details_exclude_list = [OrderEvent.order]
    column_export_list = [
        OrderEvent.at,
        "order.number",
        OrderEvent.kind,
        OrderEvent.from_state,
        OrderEvent.to_state,
        OrderEvent.actor_label,
        OrderEvent.note,
    ]
    column_export_labels = {
        "at": lazy("When"),
        "order.number": lazy("Order"),
        "kind": lazy("Event"),
        "from_state": lazy("From"),
        "to_state": lazy("To"),
        "note": lazy("Note"),
    }
    column_export_values = {
        "kind": lambda event: event_label(event.kind),
        "from_state": lambda event: event.from_state and state_label(event.from_state),
        "to_state": lambda event: event.to_state and state_label(event.to_state),
        "note": event_note,
    }


class StripeEventAdmin(FastListMixin, ReadOnlyView, model=StripeEvent):
    name = lazy("Stripe event")
    name_plural = lazy("Stripe events")
    icon = "fa-brands fa-stripe-s"
    category = lazy("Sales")
    column_list = [
        StripeEvent.id,
        StripeEvent.type,
        StripeEvent.received_at,
        StripeEvent.processed_at,
        StripeEvent.error,
    ]
    column_searchable_list = [StripeEvent.id, StripeEvent.type]
    column_default_sort = [(StripeEvent.received_at, True)]
    column_formatters = {StripeEvent.received_at: when("received_at"), StripeEvent.processed_at: when("processed_at")}


class SubscriptionAdmin(ActionsMixin, ReadOnlyView, model=Subscription):
    name = lazy("Subscription")
    name_plural = lazy("Subscriptions")
    icon = "fa-solid fa-repeat"
    category = lazy("Sales")
    details_template = "smplat/subscription_details.html"
    column_list = [
        Subscription.id,
        Subscription.customer_id,
        Subscription.target_username,
        Subscription.status,
        Subscription.price,
        Subscription.current_period_end,
    ]
    column_export_labels = {"currency": lazy("Currency")}
    column_default_sort = [(Subscription.id, True)]
    column_formatters = {
        Subscription.status: badge("status"),
        Subscription.price: money("price"),
        Subscription.current_period_end: when("current_period_end"),
    }
    column_export_list = [
        Subscription.id,
        Subscription.customer_id,
        Subscription.target_username,
        Subscription.status,
        Subscription.price,
        Subscription.currency,
        Subscription.current_period_end,
    ]
    column_export_labels = {"currency": lazy("Currency")}

    async def details_context(self, request: Request) -> dict[str, Any]:
        """The subscription's orders: the first period's, then one renewal per paid invoice (newest first)."""
        pk = str(request.path_params["pk"])
        if not pk.isdigit():
            return {"subscription_orders": []}
        async with self.session_maker(expire_on_commit=False) as session:
            orders = await session.scalars(
                sa.select(Order).where(Order.subscription_id == int(pk)).order_by(Order.id.desc()).limit(200)
            )
            return {"subscription_orders": list(orders.unique().all())}

    def describe_for_action(self, subscription: Subscription) -> str:
        return f"#{subscription.id} · @{subscription.target_username} · {money('price')(subscription, None)}"

    @business_action(
        "cancel-at-period-end",
        lazy("Cancel subscription at period end"),
        danger=True,
        opens_units=True,
        description=lazy(
            "Stripe collects no further payment: the subscription runs until the end of the paid period and "
            "then ends. Orders already paid are delivered."
        ),
    )
    async def cancel_at_period_end(self, ctx: ActionContext) -> str:
        if len(ctx.pks) != 1:
            raise DomainError(N_("Cancel one subscription at a time."))
        if ctx.payments is None:
            raise DomainError(N_("No payment processor is configured: subscriptions cannot be changed."))
        ends = await cancel_at_period_end(
            ctx.sessions, ctx.payments, subscription_id=ctx.pks[0], actor=ctx.actor, ip=ctx.ip
        )
        when_text = i18n.format_datetime(ends, get_locale()) if ends else "–"
        return admin_gettext(N_("Subscription #%(id)s ends on %(when)s")) % {"id": ctx.pks[0], "when": when_text}


def diff_summary(entry: AuditLog, _attribute: Any) -> Markup:
    if not entry.diff:
        return Markup("")
    fields = ", ".join(field_label(name) for name in sorted(entry.diff)[:6]) + (" …" if len(entry.diff) > 6 else "")
    return Markup('<span class="text-secondary">{}</span>').format(fields)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "–"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def diff_table(entry: AuditLog, _attribute: Any) -> Markup:
    """Each changed field as a row: its label, the value before → the value after."""
    if not entry.diff:
        return Markup("–")
    rows = Markup("").join(
        Markup("<tr><th>{}</th><td>{}</td><td>→</td><td>{}</td></tr>").format(
            field_label(name), _shown(change.get("before")), _shown(change.get("after"))
        )
        for name, change in sorted(entry.diff.items())
        if isinstance(change, dict)
    )
    head = Markup("<thead><tr><th>{}</th><th>{}</th><th></th><th>{}</th></tr></thead>").format(
        admin_gettext(N_("Field")), admin_gettext(N_("Before")), admin_gettext(N_("After"))
    )
    return Markup('<table class="table table-sm mb-0" data-testid="audit-diff">{}<tbody>{}</tbody></table>').format(
        head, rows
    )


class AuditLogAdmin(FastListMixin, ReadOnlyView, model=AuditLog):
    name = lazy("Audit entry")
    name_plural = lazy("Audit log")
    icon = "fa-solid fa-shield-halved"
    category = lazy("Administration")
    column_list = [
        AuditLog.at,
        AuditLog.actor_label,
        AuditLog.action,
        AuditLog.entity_type,
        AuditLog.entity_id,
        AuditLog.diff,
        AuditLog.ip,
    ]
    column_labels = {AuditLog.actor_label: lazy("Who"), AuditLog.diff: lazy("Changed fields")}
    column_searchable_list = [AuditLog.actor_label, AuditLog.entity_type, AuditLog.action]
    column_default_sort = [(AuditLog.id, True)]
    column_formatters = {AuditLog.at: when("at"), AuditLog.diff: diff_summary}
    column_formatters_detail = {AuditLog.at: when("at"), AuditLog.diff: diff_table}
    column_export_labels = {"diff": lazy("Changes"), "entity_id": lazy("Record ID")}
