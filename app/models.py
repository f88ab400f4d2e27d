"""Imports every model so that the metadata is complete (Alembic, SQLAdmin, tests)."""

from app.accounts.models import LoginAttempts, Role, StaffSession, StaffUser
from app.analytics.models import FunnelEvent, SalesDay, SalesDayChange
from app.audit.models import AuditLog
from app.catalog.models import CatalogVersion, Category, Service, ServiceKind
from app.company.models import CompanySettings
from app.customers.models import Customer
from app.db.base import metadata
from app.fulfillment.models import Provider, ProviderKind, ProviderService, RefillRequest
from app.gdpr.models import DataExport, ErasureRequest
from app.instagram.models import InstagramLookup, InstagramSnapshot
from app.invoicing.models import Invoice, InvoiceKind, InvoiceSequence
from app.lexoffice.models import LexofficeSync
from app.notifications.models import EmailOutbox, EmailStatus
from app.orders.models import EventKind, Order, OrderEvent, OrderLine, OrderSource, OrderStatusTally
from app.payments.models import CheckoutLink, Payment, Refund, StripeEvent, Subscription
from app.portal.models import PortalLinkRequests, PortalLoginToken

__all__ = [
    "AuditLog",
    "CatalogVersion",
    "Category",
    "CheckoutLink",
    "CompanySettings",
    "Customer",
    "DataExport",
    "EmailOutbox",
    "EmailStatus",
    "ErasureRequest",
    "EventKind",
    "FunnelEvent",
    "InstagramLookup",
    "InstagramSnapshot",
    "Invoice",
    "InvoiceKind",
    "InvoiceSequence",
    "LexofficeSync",
    "LoginAttempts",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderSource",
    "OrderStatusTally",
    "Payment",
    "PortalLinkRequests",
    "PortalLoginToken",
    "Provider",
    "ProviderKind",
    "ProviderService",
    "RefillRequest",
    "Refund",
    "Role",
    "SalesDay",
    "SalesDayChange",
    "Service",
    "ServiceKind",
    "StaffSession",
    "StaffUser",
    "StripeEvent",
    "Subscription",
    "metadata",
]
