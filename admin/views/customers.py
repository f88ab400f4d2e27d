"""Customers, with their orders, payments and subscriptions on the details page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin.i18n import get_locale
from starlette.requests import Request

from admin.actions import ActionContext, ActionField, ActionsMixin, business_action, done_message
from admin.base import FormCommands, SmplatModelView, shortened_field, when
from admin.i18n import lazy
from app import i18n
from app.customers.commands import CUSTOMER_FIELDS, create_customer, update_customer
from app.customers.models import Customer
from app.customers.overview import customer_overview, order_figures, order_figures_expression
from app.gdpr.erasure import confirm_erasure, decline_erasure
from app.i18n import N_
from app.instagram.metrics import customer_profile_metrics
from app.instagram.profiles import snapshots_enabled
from app.uow import utc_now


def orders_of(customer: Customer, _attribute: Any) -> str:
    return i18n.format_number(order_figures(customer.order_figures).orders, get_locale())


def spend_of(customer: Customer, _attribute: Any) -> str:
    spend = order_figures(customer.order_figures).spend
    return " · ".join(i18n.format_money(amount, currency, get_locale()) for currency, amount in spend.items()) or "–"


def last_order_of(customer: Customer, _attribute: Any) -> Markup | str:
    last = order_figures(customer.order_figures).last_order_at
    if last is None:
        return "–"
    return Markup('<span title="{} UTC">{}</span>').format(
        last.strftime("%Y-%m-%d %H:%M:%S"), i18n.format_datetime(last, get_locale(), "short")
    )


class CustomerAdmin(ActionsMixin, SmplatModelView, model=Customer):
    name = lazy("Customer")
    name_plural = lazy("Customers")
    icon = "fa-solid fa-users"
    category = lazy("Sales")
    can_delete = False
    details_template = "smplat/customer_details.html"
    column_list = [
        Customer.email,
        Customer.name,
        Customer.company,
        Customer.country,
        "orders",
        "spend",
        "last_order",
    ]
    column_searchable_list = [Customer.email, Customer.name, Customer.company, Customer.vat_id]
    column_sortable_list = [Customer.id, Customer.email, Customer.created_at]
    column_default_sort = [(Customer.id, True)]
    column_formatters = {
        Customer.email: shortened_field("email", 14),
        Customer.name: shortened_field("name", 9),
        Customer.company: shortened_field("company", 9),
        Customer.created_at: when("created_at"),
        "orders": orders_of,
        "spend": spend_of,
        "last_order": last_order_of,
    }
    column_labels = {
        Customer.vat_id: lazy("VAT ID"),
        Customer.created_at: lazy("Created"),
        "orders": lazy("Orders"),
        "spend": lazy("Spend (net, paid)"),
        "last_order": lazy("Last order"),
    }
    form_columns = list(CUSTOMER_FIELDS)
    # A counter for the portal's cookies only; the list's order figures.
    column_details_exclude_list = [Customer.portal_session_version, Customer.order_figures]
    # The export is the invoicing address book (admin and finance only: see admin/roles.py).
    column_export_list = [
        Customer.id,
        Customer.email,
        Customer.name,
        Customer.company,
        Customer.address_line1,
        Customer.address_line2,
        Customer.postal_code,
        Customer.city,
        Customer.country,
        Customer.vat_id,
        Customer.locale,
        Customer.created_at,
    ]
    column_export_labels = {
        "email": lazy("Email"),
        "name": lazy("Name"),
        "company": lazy("Company"),
        "address_line1": lazy("Address line 1"),
        "address_line2": lazy("Address line 2"),
        "postal_code": lazy("Postal code"),
        "city": lazy("City"),
        "country": lazy("Country"),
        "locale": lazy("Language"),
    }

    form_commands = FormCommands(create_customer, update_customer, "customer_id")

    def list_query(self, request: Request) -> Any:
        return sa.select(Customer).options(sa.orm.with_expression(Customer.order_figures, order_figures_expression()))

    async def details_context(self, request: Request) -> dict[str, Any]:
        customer_id = int(request.path_params["pk"])
        async with self.session_maker(expire_on_commit=False) as session:
            overview = await customer_overview(session, customer_id)
            # The client's "Metrics" page, as they see it in the portal.
            profiles = await customer_profile_metrics(session, customer_id, utc_now()) if snapshots_enabled() else []
        return {"overview": overview, "instagram_profiles": profiles}

    def describe_for_action(self, customer: Customer) -> str:
        return f"#{customer.id} · {customer}"

    @business_action(
        "confirm-erasure",
        lazy("Confirm erasure"),
        danger=True,
        add_in_list=False,
        description=lazy(
            "The customer asked to be erased. Their name, email, addresses, VAT ID and notes are removed, their "
            "portal sessions and tracking links end, and personal data in the order timeline, the audit log and "
            "the Stripe events is scrubbed. Invoices and credit notes stay as issued (retention by law). Refused "
            "while an order is open or a subscription runs."
        ),
    )
    async def confirm_erasure(self, ctx: ActionContext) -> str:
        done = [await confirm_erasure(ctx.uow, customer_id=pk, actor=ctx.actor) for pk in ctx.pks]
        return done_message(N_("Erased: %(items)s"), [f"#{erasure.customer_id}" for erasure in done])

    @business_action(
        "decline-erasure",
        lazy("Decline erasure"),
        add_in_list=False,
        fields=[ActionField("reason", lazy("Reason"), kind="textarea")],
        description=lazy("The erasure request is declined; the reason is kept with it."),
    )
    async def decline_erasure(self, ctx: ActionContext) -> str:
        reason = ctx.values["reason"]
        done = [await decline_erasure(ctx.uow, customer_id=pk, reason=reason, actor=ctx.actor) for pk in ctx.pks]
        return done_message(N_("Erasure declined: %(items)s"), [f"#{request.customer_id}" for request in done])
