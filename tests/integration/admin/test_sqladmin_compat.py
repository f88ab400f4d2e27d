"""What the back office relies on from SQLAdmin's private API (admin/sqladmin_compat.py), pinned.

After an SQLAdmin upgrade, this file says which of the private names moved or changed meaning.
"""

from __future__ import annotations

from importlib.metadata import version

import sqlalchemy as sa
from sqladmin.filters import BooleanFilter
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from admin import sqladmin_compat as compat
from admin.views.orders import OrderAdmin
from admin.views.providers import ProviderAdmin
from app.catalog.models import Service
from app.customers.models import Customer
from app.orders.models import Order


def view_of(backoffice, view_class):
    (view,) = [v for v in backoffice.admin.views if type(v) is view_class]
    return view


def test_the_module_is_written_for_the_pinned_sqladmin():
    assert version("sqladmin").startswith("0.32."), "SQLAdmin moved: check admin/sqladmin_compat.py against it"


def test_columns_labels_and_fields_come_from_the_view_declarations(backoffice):
    orders = view_of(backoffice, OrderAdmin)
    assert compat.list_fields(orders) == [
        "status",
        "payment_status",
        "number",
        "customer",
        "services",
        "gross",
        "created_at",
    ]
    assert compat.column_label(orders, "number") == "Number"
    assert compat.column_label(orders, "no_such_field") == "no_such_field"
    assert "paid_at" in compat.details_fields(orders)
    assert "number" in compat.sort_fields(orders)
    assert compat.search_fields(orders) == ["number"]
    assert "gross" in compat.export_fields(orders)
    assert [relation.key for relation in compat.list_relations(orders)] == ["customer"]
    assert compat.is_link(orders, "customer") and not compat.is_link(orders, "number")
    assert compat.list_formatter(orders, "gross") is not None
    assert compat.list_formatter(orders, "no_such_field") is None
    assert compat.default_formatter(orders, None) == ""


def detached(view_class, backoffice):
    """A view like the mounted one, on this event loop's sessions (the mounted app runs on the test client's)."""
    view = view_class()
    view.session_maker, view.is_async = backoffice.sessions, True
    return view


async def test_queries_run_in_the_views_session(backoffice):
    orders = detached(OrderAdmin, backoffice)
    rows = await compat.run_query(orders, sa.select(Order).options(sa.orm.selectinload(Order.lines)).limit(2))
    assert len(rows) == 2 and all(isinstance(row, Order) for row in rows)
    customer = rows[0].customer
    assert compat.identity_for(orders, customer) == "customer"
    assert compat.get_object_identifier(customer) == customer.id
    assert compat.object_identifier_values(str(customer.id), Customer) == (customer.id,)


def test_one_record_is_read_through_our_statement_hook(backoffice):
    providers = view_of(backoffice, ProviderAdmin)
    statement = providers._stmt_by_identifier("1")  # what SQLAdmin calls for details, edit and delete
    assert "provider.api_key" in str(statement)  # ProviderAdmin.record_statement undefers the key
    assert "WHERE provider.id =" in str(statement)


async def test_sqladmin_answers_a_save_with_the_stored_response(backoffice):
    request = Request({"type": "http", "method": "POST", "path": "/", "headers": [], "state": {}})
    page = PlainTextResponse("new password: shown once")
    compat.store_after_change_response(request, page)
    assert page in vars(request.state)["_state"].values()  # where SQLAdmin's save looks for it


def test_filters_without_a_value_apply_only_with_a_default(backoffice):
    assert BooleanFilter(Service.is_active).default_value is compat.UNSET


def test_action_routes_and_logout_answer_post_and_the_admin_knows_its_settings(backoffice):
    app = compat.starlette_app(backoffice.admin)
    routes = {getattr(route, "name", ""): route for route in app.router.routes}
    assert "POST" in routes["logout"].methods
    assert "POST" in routes["action-order-cancel-order"].methods
    dashboard = next(view for view in backoffice.admin.views if getattr(view, "identity", "") == "dashboard")
    assert compat.admin_of(dashboard) is backoffice.admin


async def test_filter_options_reach_the_template_helper(backoffice):
    orders = detached(OrderAdmin, backoffice)
    provider_filter = next(f for f in orders.get_filters() if f.parameter_name == "provider")
    request = Request(
        {"type": "http", "method": "GET", "path": "/admin/order/list", "headers": [], "query_string": b""}
    )
    options = await compat.filter_lookups(provider_filter, request, orders)
    assert options[0][0] == "__all" and len(options) >= 2
