"""Every back-office view, in menu order, and the wiring done once the Admin exists."""

from __future__ import annotations

from sqladmin import Admin, BaseView, ModelView

from admin import sqladmin_compat as compat
from admin.menu import hide_empty_groups
from admin.pages.account import AccountView
from admin.pages.dashboard import DashboardView
from admin.pages.fulfillment import FulfillmentBoardView
from admin.pages.reports import ReportsView
from admin.pages.tax_advisor import TaxAdvisorView
from admin.views.administration import CompanySettingsAdmin, StaffUserAdmin
from admin.views.catalog import CategoryAdmin, ServiceAdmin
from admin.views.customers import CustomerAdmin
from admin.views.erasure import ErasureRequestAdmin
from admin.views.invoices import InvoiceAdmin
from admin.views.lines import OrderLineAdmin
from admin.views.links import CheckoutLinkAdmin
from admin.views.orders import OrderAdmin
from admin.views.outbox import EmailOutboxAdmin
from admin.views.providers import ProviderAdmin, ProviderServiceAdmin
from admin.views.records import (
    AuditLogAdmin,
    OrderEventAdmin,
    PaymentAdmin,
    RefundAdmin,
    StripeEventAdmin,
    SubscriptionAdmin,
)

ADMIN_VIEWS: list[type[ModelView] | type[BaseView]] = [
    DashboardView,
    ReportsView,
    TaxAdvisorView,
    OrderAdmin,
    CustomerAdmin,
    ErasureRequestAdmin,
    PaymentAdmin,
    RefundAdmin,
    InvoiceAdmin,
    CheckoutLinkAdmin,
    SubscriptionAdmin,
    OrderEventAdmin,
    StripeEventAdmin,
    FulfillmentBoardView,
    OrderLineAdmin,
    ProviderAdmin,
    ProviderServiceAdmin,
    ServiceAdmin,
    CategoryAdmin,
    CompanySettingsAdmin,
    StaffUserAdmin,
    EmailOutboxAdmin,
    AuditLogAdmin,
    AccountView,
]


def configure_admin(admin: Admin) -> None:
    """Action endpoints and the logout answer POST too: GET shows a confirmation form, POST (with the CSRF
    token) acts."""
    compat.allow_post(admin, lambda name: name.startswith("action-") or name == "logout")
    hide_empty_groups(admin)
