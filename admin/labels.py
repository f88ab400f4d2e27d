"""How states and event kinds read in the back office, in German and English (badges, filters, timelines)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqladmin.i18n import get_locale

from admin.i18n import LazyText, admin_gettext, lazy
from app import states
from app.accounts.models import Role
from app.actors import ActorKind
from app.catalog.models import PLATFORM_LABELS, Platform, ServiceKind
from app.fulfillment.models import ProviderKind
from app.fulfillment.provider_errors import ProviderError, provider_error
from app.i18n import N_
from app.invoicing.models import InvoiceKind
from app.invoicing.tax import ServiceClassification, TaxTreatment
from app.orders.event_notes import render_note
from app.orders.models import SOURCE_LABELS, OrderSource
from app.payments.models import PaymentMethod


def state_label(value: Any) -> str:
    """A state of any machine (see app/states.py), in the staff member's language."""
    return states.label(value).render(admin_gettext)


EVENT_LABELS = {
    "created": N_("created"),
    "status": N_("order status"),
    "payment_status": N_("payment status"),
    "line_status": N_("line status"),
    "note": N_("note"),
    "provider": N_("provider"),
    "notification": N_("notification"),
}


def first_upper(text: str) -> str:
    """The first letter upper case, the rest as written: German nouns keep theirs ("In Ausführung")."""
    return text[:1].upper() + text[1:]


def event_note(event: Any) -> str | None:
    """An event's note (or a line's reason, which is one) in the staff member's language."""
    return render_note(event.note, event.data, admin_gettext, get_locale())


def event_provider_error(event: Any) -> ProviderError | None:
    """The provider's error an event (or a line's reason) records, explained beside the provider's words."""
    return provider_error(event.note, event.data, event.actor_kind)


def event_label(value: Any) -> str:
    text = str(getattr(value, "value", value))
    return admin_gettext(EVENT_LABELS.get(text, text.replace("_", " ")))


# How every field reads in the back office (lists, details, forms, exports), unless a view says otherwise.
FIELD_LABELS = {
    "action": N_("Action"),
    "actor_id": N_("Staff ID"),
    "actor_kind": N_("Actor type"),
    "actor_label": N_("Who"),
    "address_line1": N_("Address line 1"),
    "address_line2": N_("Address line 2"),
    "amount": N_("Amount"),
    "api_key": N_("API key"),
    "api_url": N_("API address"),
    "at": N_("Time"),
    "attempts": N_("Attempts"),
    "balance": N_("Balance"),
    "balance_synced_at": N_("Balance synced"),
    "bank_name": N_("Bank"),
    "bic": N_("BIC"),
    "cancel": N_("Cancel possible"),
    "canceled_at": N_("Canceled at"),
    "cancellable": N_("Cancellable"),
    "catalog_services": N_("Our services"),
    "category": N_("Category"),
    "category_id": N_("Category"),
    "charge": N_("Provider charge"),
    "checkout_link_id": N_("Checkout link"),
    "city": N_("City"),
    "closed_at": N_("Closed"),
    "comments": N_("Comments"),
    "company": N_("Company"),
    "country": N_("Country"),
    "created_at": N_("Created"),
    "created_by_id": N_("Created by"),
    "currency": N_("Currency"),
    "current_period_end": N_("Current period ends"),
    "customer": N_("Customer"),
    "customer_id": N_("Customer"),
    "customer_note": N_("Customer's note"),
    "data": N_("Data"),
    "description_de": N_("Description (German)"),
    "description_en": N_("Description (English)"),
    "diff": N_("Changes"),
    "dispatched_at": N_("Dispatched"),
    "email": N_("Email"),
    "entity_id": N_("Record ID"),
    "entity_type": N_("Record type"),
    "erased_at": N_("Erased"),
    "error": N_("Error"),
    "eur_per_unit": N_("EUR per unit of its currency"),
    "expires_at": N_("Expires"),
    "external_id": N_("Provider's service ID"),
    "finished_at": N_("Finished"),
    "from_state": N_("From"),
    "fulfillment_status": N_("Fulfillment"),
    "gross": N_("Gross"),
    "iban": N_("IBAN"),
    "id": N_("ID"),
    "idempotency_key": N_("Idempotency key"),
    "interval_minutes": N_("Interval (minutes)"),
    "ip": N_("IP address"),
    "is_active": N_("Active"),
    "is_listed": N_("Listed by the provider"),
    "is_small_business": N_("Small business (§19 UStG, no VAT)"),
    "service_classification": N_("Our services for VAT"),
    "buyer_country": N_("Buyer country"),
    "buyer_is_business": N_("Buyer is a business"),
    "buyer_vat_id": N_("Buyer VAT ID"),
    "items": N_("Items"),
    "kind": N_("Kind"),
    "first_paid_at": N_("First paid"),
    "last_login_at": N_("Last login"),
    "last_progress_at": N_("Last progress"),
    "legal_name": N_("Legal name"),
    "line": N_("Line"),
    "line_id": N_("Line"),
    "lines": N_("Lines"),
    "link": N_("Link"),
    "locale": N_("Language"),
    "low_balance_threshold": N_("Low-balance threshold"),
    "managing_director": N_("Managing director"),
    "max_quantity": N_("Maximum"),
    "max_uses": N_("Maximum uses"),
    "method": N_("Method"),
    "min_quantity": N_("Minimum"),
    "must_change_password": N_("Must change password at next login"),
    "name": N_("Name"),
    "name_de": N_("Name (German)"),
    "name_en": N_("Name (English)"),
    "net": N_("Net"),
    "next_poll_at": N_("Next status check"),
    "note": N_("Note"),
    "notes": N_("Notes"),
    "number": N_("Number"),
    "order": N_("Order"),
    "order_id": N_("Order"),
    "paid_at": N_("Paid"),
    "payload": N_("Payload"),
    "payment_status": N_("Payment"),
    "phone": N_("Phone"),
    "platform": N_("Platform"),
    "position": N_("Position"),
    "postal_code": N_("Postal code"),
    "posts_per_period": N_("Posts per period"),
    "price": N_("Price"),
    "processed_at": N_("Processed"),
    "provider": N_("Provider"),
    "provider_id": N_("Provider"),
    "provider_order_id": N_("Provider order"),
    "provider_service": N_("Provider service"),
    "provider_service_id": N_("Provider service"),
    "quantity": N_("Quantity"),
    "quantity_per_post": N_("Quantity per post"),
    "rate": N_("Rate per 1000"),
    "received_at": N_("Received"),
    "refill": N_("Refill possible"),
    "refill_days": N_("Refill days"),
    "refunded_amount": N_("Refunded"),
    "register_court": N_("Register court"),
    "register_number": N_("Register number"),
    "remains": N_("Remains"),
    "renewal_notices": N_("Renewal notices"),
    "role": N_("Role"),
    "runs": N_("Runs"),
    "service": N_("Service"),
    "service_id": N_("Service"),
    "service_kind": N_("Kind"),
    "service_name": N_("Service"),
    "services": N_("Services"),
    "services_synced_at": N_("Services synced"),
    "slug": N_("Slug"),
    "source": N_("Source"),
    "start_count": N_("Start count"),
    "status": N_("Status"),
    "status_changed_at": N_("In this state since"),
    "stripe_checkout_session_id": N_("Stripe Checkout session"),
    "stripe_customer_id": N_("Stripe customer"),
    "stripe_payment_intent_id": N_("Stripe payment intent"),
    "stripe_subscription_id": N_("Stripe subscription"),
    "subscription_id": N_("Subscription"),
    "synced_at": N_("Synced"),
    "target_username": N_("Target username"),
    "tax": N_("VAT"),
    "tax_number": N_("Tax number (Steuernummer)"),
    "tax_rate": N_("VAT rate"),
    "tax_treatment": N_("VAT treatment"),
    "to_state": N_("To"),
    "type": N_("Type"),
    "unit_price": N_("Unit price"),
    "updated_at": N_("Updated"),
    "vat_id": N_("VAT ID"),
    "vat_id_entered_at": N_("VAT ID entered at"),
    "vat_id_entered_by": N_("VAT ID entered by"),
    "version": N_("Version"),
    "website": N_("Website"),
}


def field_label(name: str) -> str:
    """A field as staff read it, never as the code spells it (``upstream_order_id``)."""
    return admin_gettext(FIELD_LABELS.get(name, name.replace("_", " ")))


# How the values of enums that are not state machines read (states: app/states.py).
CHOICE_LABELS: dict[type[StrEnum], dict[str, str]] = {
    Platform: {**{p.value: text for p, text in PLATFORM_LABELS.items()}, Platform.OTHER: N_("Other")},
    ServiceKind: {
        ServiceKind.DEFAULT: N_("per 1000 (default)"),
        ServiceKind.PACKAGE: N_("package"),
        ServiceKind.CUSTOM_COMMENTS: N_("custom comments"),
        ServiceKind.SUBSCRIPTION: N_("subscription"),
        ServiceKind.DRIP_FEED: N_("drip-feed"),
    },
    ProviderKind: {
        ProviderKind.SMM_V2: N_("SMM panel (API v2)"),
        ProviderKind.MANUAL: N_("manual work"),
        ProviderKind.SANDBOX: N_("sandbox (demo and tests)"),
    },
    Role: {Role.ADMIN: N_("admin"), Role.STAFF: N_("staff"), Role.FINANCE: N_("finance")},
    OrderSource: {source.value: text for source, text in SOURCE_LABELS.items()},
    PaymentMethod: {
        PaymentMethod.STRIPE: N_("Stripe"),
        PaymentMethod.BANK_TRANSFER: N_("bank transfer"),
        PaymentMethod.DEMO: N_("demo payment"),
    },
    TaxTreatment: {
        TaxTreatment.DOMESTIC: N_("German VAT"),
        TaxTreatment.REVERSE_CHARGE: N_("reverse charge (EU business)"),
        TaxTreatment.EU_OSS: N_("EU consumer (OSS)"),
        TaxTreatment.NON_EU_BUSINESS: N_("non-EU business"),
        TaxTreatment.NON_EU_CONSUMER: N_("non-EU consumer"),
        TaxTreatment.SMALL_BUSINESS: N_("small business, no VAT (§19 UStG)"),
    },
    InvoiceKind: {InvoiceKind.INVOICE: N_("invoice"), InvoiceKind.CREDIT_NOTE: N_("credit note")},
    ServiceClassification: {
        ServiceClassification.ELECTRONIC: N_(
            "electronically supplied: consumers pay their country's VAT (§3a Abs. 5 UStG)"
        ),
        ServiceClassification.GENERAL: N_("general service: German VAT for every consumer (§3a Abs. 1 UStG)"),
    },
    ActorKind: {
        ActorKind.SYSTEM: N_("system"),
        ActorKind.STAFF: N_("staff"),
        ActorKind.CUSTOMER: N_("customer"),
        ActorKind.PROVIDER: N_("provider"),
        ActorKind.STRIPE: N_("Stripe"),
        ActorKind.WORKER: N_("worker"),
        ActorKind.CLI: N_("command line"),
    },
}


def choice_label(enum: type[StrEnum] | None, value: object) -> LazyText:
    """An enum value as staff read it (translated when shown): a state's label, else the enum's, else itself."""
    text = str(getattr(value, "value", value))
    labels = CHOICE_LABELS.get(enum) if enum is not None else None
    if labels is not None:
        return lazy(labels.get(text, text))
    if enum is not None and (entry := states.info(enum(text))) is not None:
        return lazy(entry.label)
    return lazy(text)


def role_label(role: Role) -> str:
    """A staff role as the top bar names it ("Administrator", "Buchhaltung")."""
    return first_upper(str(choice_label(Role, role)))


def enum_value_label(value: StrEnum) -> str:
    """A formatter for enum values in lists and details."""
    return str(choice_label(type(value), value))


ENUM_FORMATTERS = dict.fromkeys(CHOICE_LABELS, enum_value_label)
