"""Orders: list, details with lines and timeline, and the business actions."""

from __future__ import annotations

from admin.base import SmplatModelView, badge, money, when
from app.orders.models import Order


class OrderAdmin(SmplatModelView, model=Order):
    name = "Order"
    name_plural = "Orders"
    icon = "fa-solid fa-receipt"
    can_create = False
    can_edit = False
    can_delete = False
    column_list = [Order.number, Order.customer, Order.gross, Order.status, Order.payment_status, Order.created_at]
    column_searchable_list = [Order.number]
    column_sortable_list = [Order.id, Order.number, Order.gross, Order.created_at]
    column_default_sort = [(Order.id, True)]
    column_formatters = {
        Order.gross: money("gross"),
        Order.status: badge("status"),
        Order.payment_status: badge("payment_status"),
        Order.created_at: when("created_at"),
    }
