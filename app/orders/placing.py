"""Turning what a client asked for into priced, validated order lines (no database writes here)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal

from app.catalog.models import Service, ServiceKind
from app.errors import ValidationFailed
from app.i18n import N_, Message
from app.orders.links import InvalidLink, normalise_link
from app.orders.models import OrderLine
from app.orders.pricing import line_net
from app.orders.states import LineStatus

MAX_COMMENTS = 1000
MIN_DRIP_RUNS = 2


def new_tracking_token() -> tuple[str, str]:
    """A fresh (token, sha256 hex) pair. Only the hash is stored; the token goes into the client's link."""
    token = secrets.token_urlsafe(32)
    return token, tracking_token_hash(token)


def tracking_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LineInput:
    service_id: int
    link: str
    quantity: int
    comments: str | None = None
    runs: int | None = None
    interval_minutes: int | None = None
    unit_price: Decimal | None = None  # a price override (checkout links); None = the service's price


@dataclass(frozen=True)
class LineTerms:
    """What one line costs and delivers, before its link is known to be good."""

    quantity: int
    comments: str | None
    runs: int | None
    interval_minutes: int | None
    unit_price: Decimal
    net: Decimal


def line_terms(service: Service, item: LineInput, position: int) -> LineTerms:
    """Quantity, comments, runs and price of one item checked against its service; raises ValidationFailed keyed
    by field (``lines[i].quantity`` …). The link is checked by ``build_line``."""
    prefix = f"lines[{position - 1}]."
    errors: dict[str, str | Message] = {}
    quantity = item.quantity
    comments = None
    if service.kind == ServiceKind.CUSTOM_COMMENTS:
        lines = [c.strip() for c in (item.comments or "").splitlines() if c.strip()]
        if not lines:
            errors[prefix + "comments"] = N_("enter at least one comment, one per line")
        elif len(lines) > MAX_COMMENTS:
            errors[prefix + "comments"] = Message(N_("at most %(max)s comments"), {"max": MAX_COMMENTS})
        quantity = len(lines)
        comments = "\n".join(lines)
    if not service.min_quantity <= quantity <= service.max_quantity:
        errors[prefix + "quantity"] = Message(
            N_("must be between %(min)s and %(max)s"), {"min": service.min_quantity, "max": service.max_quantity}
        )
    runs = interval = None
    if service.kind == ServiceKind.DRIP_FEED and item.runs is not None:
        runs, interval = item.runs, item.interval_minutes
        if runs < MIN_DRIP_RUNS:
            errors[prefix + "runs"] = Message(N_("a drip-feed needs at least %(min)s runs"), {"min": MIN_DRIP_RUNS})
        if interval is None or interval < 1:
            errors[prefix + "interval_minutes"] = N_("enter the minutes between runs")
    unit_price = service.price if item.unit_price is None else item.unit_price
    if unit_price < 0:
        errors[prefix + "unit_price"] = N_("must not be negative")
    if errors:
        raise ValidationFailed(errors)
    return LineTerms(quantity, comments, runs, interval, unit_price, line_net(service.kind, unit_price, quantity, runs))


def build_line(service: Service, item: LineInput, position: int) -> OrderLine:
    """Validate one item against its service and price it; raises ValidationFailed keyed by field."""
    errors: dict[str, str | Message] = {}
    try:
        terms = line_terms(service, item, position)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        link = normalise_link(service.category.platform, item.link)
    except InvalidLink as exc:
        errors[f"lines[{position - 1}].link"] = exc.text
    if errors:
        raise ValidationFailed(errors)
    return OrderLine(
        position=position,
        service_id=service.id,
        service_name=service.name_en,
        service_kind=service.kind,
        link=link,
        quantity=terms.quantity,
        comments=terms.comments,
        runs=terms.runs,
        interval_minutes=terms.interval_minutes,
        unit_price=terms.unit_price,
        net=terms.net,
        fulfillment_status=LineStatus.AWAITING_PAYMENT,
        provider_service_id=service.provider_service_id,
        provider_id=service.provider_service.provider_id if service.provider_service else None,
    )
