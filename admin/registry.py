"""Every back-office view, in menu order, and the wiring done once the Admin exists."""

from __future__ import annotations

from sqladmin import Admin, BaseView, ModelView

from admin.views.catalog import CategoryAdmin, ServiceAdmin
from admin.views.customers import CustomerAdmin
from admin.views.orders import OrderAdmin

ADMIN_VIEWS: list[type[ModelView] | type[BaseView]] = [
    OrderAdmin,
    CustomerAdmin,
    ServiceAdmin,
    CategoryAdmin,
]


def configure_admin(admin: Admin) -> None:
    """Action endpoints answer POST too: GET shows the confirmation form, POST (with CSRF token) acts."""
    for route in admin.admin.router.routes:
        name = getattr(route, "name", "") or ""
        if name.startswith("action-") and getattr(route, "methods", None) is not None:
            route.methods = {"GET", "HEAD", "POST"}  # type: ignore[attr-defined]
