"""Customers."""

from __future__ import annotations

from admin.base import SmplatModelView, when
from app.customers.models import Customer


class CustomerAdmin(SmplatModelView, model=Customer):
    name = "Customer"
    name_plural = "Customers"
    icon = "fa-solid fa-users"
    can_delete = False
    column_list = [
        Customer.id,
        Customer.email,
        Customer.name,
        Customer.company,
        Customer.country,
        Customer.vat_id,
        Customer.created_at,
    ]
    column_searchable_list = [Customer.email, Customer.name, Customer.company, Customer.vat_id]
    column_sortable_list = [Customer.id, Customer.email, Customer.created_at]
    column_default_sort = [(Customer.id, True)]
    column_formatters = {Customer.created_at: when("created_at")}
    form_excluded_columns = [
        "created_at",
        "updated_at",
        "vat_id_entered_by",
        "vat_id_entered_at",
        "stripe_customer_id",
        "erased_at",
    ]
