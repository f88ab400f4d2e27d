"""The service page's order form: what the client typed, read into a checkout, with field errors to show.

Only the shape is checked here (numbers are numbers); what makes an order valid (link per platform, quantity
limits, comments, email, country, VAT ID) is decided by the domain, whose field errors map back onto the form.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from app import i18n
from app.catalog.models import ServiceKind
from app.catalog.services import ServiceOffer
from app.errors import ValidationFailed
from app.i18n import N_, Message, parse_number
from app.orders.checkout import CheckoutInput
from app.orders.placing import LineInput

MAX_FIELD_LENGTH = 20_000  # comments are the longest field: up to 1000 lines
MAX_PREFILLED_LINK = 500


def new_form_key() -> str:
    """One key per rendered form: submitting it twice (a double click, a reload) places one order."""
    return secrets.token_urlsafe(18)


@dataclass
class OrderForm:
    link: str = ""
    username: str = ""  # subscriptions: the account whose new posts get likes or views
    posts: str = ""  # subscriptions: posts per month
    quantity: str = ""
    comments: str = ""
    runs: str = ""
    interval_minutes: str = ""
    email: str = ""
    company: str = ""
    country: str = "DE"
    vat_id: str = ""
    form_key: str = field(default_factory=new_form_key)

    @classmethod
    def from_form(cls, data: Mapping[str, str]) -> OrderForm:
        values = {name: str(data.get(name) or "")[:MAX_FIELD_LENGTH] for name in cls.__dataclass_fields__}
        if not values["form_key"]:
            values["form_key"] = new_form_key()
        return cls(**values)

    def values(self) -> dict[str, str]:
        return asdict(self)


def prefilled(service: ServiceOffer, link: str | None, quantity: str | None) -> OrderForm:
    """The order form filled from a link ("Order again" in the portal: ``?link=…&quantity=…``).

    Only what could be typed is taken: a link of printable characters, a whole quantity within the service's
    limits; anything else is left blank. The order is checked as any other when it is sent.
    """
    form = OrderForm()
    link = (link or "").strip()
    if link and len(link) <= MAX_PREFILLED_LINK and link.isprintable():
        form.link = link
    if quantity and quantity.isdigit() and service.min_quantity <= int(quantity) <= service.max_quantity:
        form.quantity = quantity
    return form


def _whole_number(raw: str, field_name: str, errors: dict[str, str | Message], locale: str) -> int | None:
    if not raw.strip():
        return None
    try:
        number = parse_number(raw, locale)
    except ValueError:
        number = None
    if number is None or number != number.to_integral_value() or not 0 < number < 10**9:
        errors[field_name] = N_("enter a whole number")
        return None
    return int(number)


def read_checkout(form: OrderForm, service: ServiceOffer, locale: str) -> CheckoutInput:
    """The checkout this form asks for; raises ValidationFailed keyed by form field for what is malformed."""
    errors: dict[str, str | Message] = {}
    quantity = _whole_number(form.quantity, "quantity", errors, locale)
    if service.kind == ServiceKind.SUBSCRIPTION:
        _whole_number(form.posts, "posts", errors, locale)
    runs = interval = None
    if service.kind == ServiceKind.DRIP_FEED:
        runs = _whole_number(form.runs, "runs", errors, locale)
        interval = _whole_number(form.interval_minutes, "interval_minutes", errors, locale)
    if service.kind == ServiceKind.PACKAGE:
        quantity = 1
    elif service.kind != ServiceKind.CUSTOM_COMMENTS and quantity is None and "quantity" not in errors:
        errors["quantity"] = N_("enter how many you want")
    if errors:
        raise ValidationFailed(errors)
    item = LineInput(
        service_id=service.id,
        link=form.username if service.kind == ServiceKind.SUBSCRIPTION else form.link,
        quantity=quantity or 0,
        comments=form.comments if service.kind == ServiceKind.CUSTOM_COMMENTS else None,
        runs=runs,
        interval_minutes=interval,
    )
    return CheckoutInput(
        email=form.email,
        items=[item],
        country=form.country or "DE",
        company=form.company.strip() or None,
        vat_id=form.vat_id.strip() or None,
        locale=locale,
        idempotency_key=f"storefront:{form.form_key}",
    )


def read_posts(form: OrderForm, locale: str) -> int | None:
    """Posts per month of a subscription form (None when blank; ``read_checkout`` refused what is malformed)."""
    errors: dict[str, str | Message] = {}
    return _whole_number(form.posts, "posts", errors, locale)


def form_errors(exc: ValidationFailed, kind: ServiceKind | None = None) -> dict[str, str]:
    """Domain field errors as form fields (``lines[0].link`` -> ``link``), in the page's language."""
    fields = {key.split(".")[-1]: text for key, text in exc.field_errors(i18n.gettext).items()}
    if kind == ServiceKind.SUBSCRIPTION and "link" in fields:
        fields["username"] = fields.pop("link")
    return fields
