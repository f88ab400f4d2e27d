"""Checkout links: staff prepare an order for a customer (fixed lines, maybe a negotiated price), the customer pays it.

Only the SHA-256 of the link's 256-bit token is stored; the token itself is shown to staff once. A link is
used each time it places an order; the order is placed under a row lock on the link, so concurrent payers
cannot place more orders than ``max_uses``. A visitor coming back to a used-up link whose order still awaits
payment gets a fresh checkout for that order instead of a refusal (Stripe's sessions expire, the link's order
does not).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor, ActorKind
from app.catalog.models import Service, ServiceKind
from app.customers.models import Customer
from app.errors import DomainError, NotFound, ValidationFailed
from app.i18n import N_, Message
from app.notifications.messages import send_checkout_link
from app.orders.checkout import CheckoutInput, place_checkout_order
from app.orders.commands import PlacedOrder
from app.orders.links import InvalidLink, normalise_link
from app.orders.models import Order, OrderSource
from app.orders.placing import LineInput, line_terms
from app.orders.states import OrderStatus
from app.payments.models import CheckoutLink, LinkStatus
from app.uow import UnitOfWork
from app.validation import MAX_TEXT_LENGTH

DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=365)
MAX_USES = 1000
MAX_LINES = 20
MAX_REASON_LENGTH = 500
PRICE_SCALE = 4  # service.price is NUMERIC(12, 4)
MAX_PRICE = Decimal("99999999.9999")
TOKEN_BYTES = 32  # 256 bits
MAX_TOKEN_LENGTH = 100  # a longer path segment cannot be one of ours; it is not even hashed


class LinkUnavailable(DomainError):
    """The link exists but can no longer be paid (expired, used up, deactivated)."""

    code = "link_unavailable"
    title: ClassVar[str] = N_("This payment link can no longer be used")

    def __init__(self, status: LinkStatus) -> None:
        self.status = status
        super().__init__(UNAVAILABLE_TEXT[status])


class UnknownLink(NotFound):
    """No link has this token (mistyped, cut short, tampered with or made up)."""

    code = "link_unknown"

    def __init__(self) -> None:
        super().__init__(UNKNOWN_LINK)


UNAVAILABLE_TEXT = {
    LinkStatus.EXPIRED: N_("This payment link has expired. Please ask us for a new one."),
    LinkStatus.USED_UP: N_("This payment link has already been used. Please ask us for a new one."),
    LinkStatus.DEACTIVATED: N_("This payment link was withdrawn. Please ask us for a new one."),
    LinkStatus.ACTIVE: N_("This payment link cannot be used right now."),
}
UNKNOWN_LINK = N_("This payment link is not valid. Please check that you copied the whole address.")


def new_link_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, link_token_hash(token)


def link_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_status(link: CheckoutLink, *, now: datetime, uses: int) -> LinkStatus:
    if not link.is_active:
        return LinkStatus.DEACTIVATED
    if link.expires_at <= now:
        return LinkStatus.EXPIRED
    if uses >= link.max_uses:
        return LinkStatus.USED_UP
    return LinkStatus.ACTIVE


def link_lines(link: CheckoutLink) -> list[LineInput]:
    """The link's stored lines as order lines (the price override, if any, included)."""
    return [
        LineInput(
            service_id=int(item["service_id"]),
            link=str(item.get("link") or ""),
            quantity=int(item["quantity"]),
            comments=item.get("comments"),
            runs=item.get("runs"),
            interval_minutes=item.get("interval_minutes"),
            unit_price=None if item.get("unit_price") is None else Decimal(str(item["unit_price"])),
        )
        for item in link.items
    ]


# -- queries ------------------------------------------------------------------------------------------------------


def live_orders_of(link_id: int | sa.orm.InstrumentedAttribute[int]) -> sa.ColumnElement[bool]:
    """The orders that count as uses of a link: every one it placed that was not canceled."""
    return sa.and_(Order.checkout_link_id == link_id, Order.status != OrderStatus.CANCELED)


async def link_uses(session: AsyncSession, link_id: int) -> int:
    """Orders the link placed that still stand (a canceled order gives its use back)."""
    count = await session.scalar(sa.select(sa.func.count()).select_from(Order).where(live_orders_of(link_id)))
    return int(count or 0)


async def link_orders(session: AsyncSession, link_id: int) -> list[Order]:
    rows = await session.scalars(sa.select(Order).where(Order.checkout_link_id == link_id).order_by(Order.id.desc()))
    return list(rows.unique().all())


async def find_link(session: AsyncSession, token: str, *, lock: bool = False) -> CheckoutLink | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    stmt = sa.select(CheckoutLink).where(CheckoutLink.token_hash == link_token_hash(token))
    if lock:
        stmt = stmt.with_for_update(of=CheckoutLink)
    return (await session.scalars(stmt)).unique().one_or_none()


@dataclass(frozen=True)
class LinkView:
    """A link as its pay page shows it."""

    link: CheckoutLink
    customer: Customer
    status: LinkStatus
    uses: int
    lines: list[LineInput]
    waiting_order: Order | None  # an order of the link still awaiting payment

    @property
    def payable(self) -> bool:
        return self.status == LinkStatus.ACTIVE or (
            self.status == LinkStatus.USED_UP and self.waiting_order is not None
        )


async def open_link(session: AsyncSession, token: str, *, now: datetime) -> LinkView:
    """The link for a token, with its status; raises NotFound for a token that names no link."""
    link = await find_link(session, token)
    if link is None:
        raise UnknownLink
    uses = await link_uses(session, link.id)
    status = link_status(link, now=now, uses=uses)
    return LinkView(link, link.customer, status, uses, link_lines(link), await _waiting_order(session, link.id))


async def _waiting_order(session: AsyncSession, link_id: int) -> Order | None:
    stmt = (
        sa.select(Order)
        .where(Order.checkout_link_id == link_id, Order.status == OrderStatus.PENDING_PAYMENT)
        .order_by(Order.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).unique().one_or_none()


# -- commands -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedLink:
    link: CheckoutLink
    token: str  # shown once; only its hash is stored


def _price_problem(price: Decimal) -> str | Message | None:
    exponent = price.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN, infinity
        return N_("enter a number")
    if -exponent > PRICE_SCALE:
        return Message(N_("at most %(places)s decimal places"), {"places": PRICE_SCALE})
    if price > MAX_PRICE:
        return N_("is too large")
    return None


def _clean_lines(
    items: Sequence[LineInput], services: dict[int, Service], override_reason: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str | Message]]:
    """The stored lines, the price overrides among them, and the field errors (keys as ``place_order``'s)."""
    errors: dict[str, str | Message] = {}
    stored: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    for position, item in enumerate(items, start=1):
        prefix = f"lines[{position - 1}]."
        service = services.get(item.service_id)
        if service is None:
            errors[prefix + "service"] = N_("this service does not exist or is no longer offered")
            continue
        if service.kind == ServiceKind.SUBSCRIPTION:
            errors[prefix + "service"] = N_("subscriptions are not sold through checkout links")
            continue
        price = item.unit_price
        if price is not None and (problem := _price_problem(price)):
            errors[prefix + "unit_price"] = problem
            continue
        try:
            terms = line_terms(service, item, position)
        except ValidationFailed as exc:
            errors.update(exc.errors)
            terms = None
        try:
            link = normalise_link(service.category.platform, item.link)
        except InvalidLink as exc:
            errors[prefix + "link"] = exc.text
            link = ""
        if terms is None or prefix + "link" in errors:
            continue
        overridden = price is not None and price != service.price
        stored.append(
            {
                "service_id": service.id,
                "link": link,
                "quantity": terms.quantity,
                "comments": terms.comments,
                "runs": terms.runs,
                "interval_minutes": terms.interval_minutes,
                "unit_price": str(price) if overridden else None,
            }
        )
        if overridden:
            overrides.append(
                {
                    "line": position,
                    "service": service.name_en,
                    "old_price": str(service.price),
                    "new_price": str(price),
                    "reason": override_reason,
                }
            )
    if overrides and not override_reason:
        errors["override_reason"] = N_("a price override needs a reason")
    currencies = {services[item.service_id].currency for item in items if item.service_id in services}
    if len(currencies) > 1:
        errors["lines"] = N_("all lines of an order must be in one currency")
    return stored, overrides, errors


async def create_checkout_link(
    uow: UnitOfWork,
    *,
    customer_id: int,
    items: Sequence[LineInput],
    expires_at: datetime,
    actor: Actor,
    max_uses: int = 1,
    note: str | None = None,
    override_reason: str | None = None,
    email_customer: bool = False,
) -> CreatedLink:
    """A payment link for one customer: lines checked against their services now, a fresh 256-bit token.

    ``email_customer``: the link also goes to the customer by email, in their language (an outbox row).

    A price override (``unit_price`` differing from the service's price) needs ``override_reason``; each one is
    audited with the old and new price. Raises ValidationFailed (keys ``customer``, ``lines[i].<field>``,
    ``override_reason``, ``expires_at``, ``max_uses``, ``note``); nothing is written then.
    """
    session = uow.session
    now = uow.now()
    note = (note or "").replace("\r\n", "\n").strip() or None
    override_reason = (override_reason or "").strip() or None
    errors: dict[str, str | Message] = {}
    customer = await session.get(Customer, customer_id)
    if customer is None:
        errors["customer"] = N_("this customer does not exist")
    if not items:
        errors["lines"] = N_("a checkout link needs at least one line")
    elif len(items) > MAX_LINES:
        errors["lines"] = Message(N_("at most %(max)s lines"), {"max": MAX_LINES})
    if expires_at <= now:
        errors["expires_at"] = N_("must be in the future")
    elif expires_at > now + MAX_LIFETIME:
        errors["expires_at"] = Message(N_("at most %(days)s days ahead"), {"days": MAX_LIFETIME.days})
    if not 1 <= max_uses <= MAX_USES:
        errors["max_uses"] = Message(N_("must be between %(min)s and %(max)s"), {"min": 1, "max": MAX_USES})
    if note and len(note) > MAX_TEXT_LENGTH:
        errors["note"] = Message(N_("at most %(max)s characters"), {"max": MAX_TEXT_LENGTH})
    if override_reason and len(override_reason) > MAX_REASON_LENGTH:
        errors["override_reason"] = Message(N_("at most %(max)s characters"), {"max": MAX_REASON_LENGTH})
    if any("\x00" in text for text in (note or "", override_reason or "", *(item.link for item in items))):
        errors["note"] = N_("must not contain NUL characters")
    active = sa.select(Service).where(Service.id.in_({item.service_id for item in items}), Service.is_active)
    services = {service.id: service for service in (await session.scalars(active)).unique()}
    stored, overrides, line_errors = _clean_lines(items[:MAX_LINES], services, override_reason)
    errors = {**line_errors, **errors}
    if errors:
        raise ValidationFailed(errors)

    token, token_hash = new_link_token()
    link = CheckoutLink(
        token_hash=token_hash,
        customer_id=customer_id,
        items=stored,
        currency=services[items[0].service_id].currency,
        expires_at=expires_at,
        max_uses=max_uses,
        note=note,
        is_active=True,
        created_by_id=int(actor.id) if actor.kind == ActorKind.STAFF and actor.id and actor.id.isdigit() else None,
        created_at=now,
        updated_at=now,
    )
    session.add(link)
    await session.flush()
    uow.audit(
        actor,
        "create",
        "checkout_link",
        link.id,
        details={
            "customer": customer.email if customer else customer_id,
            "lines": [{"service_id": s["service_id"], "quantity": s["quantity"]} for s in stored],
            "expires_at": expires_at.isoformat(),
            "max_uses": max_uses,
            "note": note,
            "emailed_to": customer.email if customer and email_customer else None,
        },
    )
    for override in overrides:
        uow.audit(actor, "override-price", "checkout_link", link.id, details=override)
    if email_customer and customer is not None:
        lines = [(services[s["service_id"]], s["quantity"]) for s in stored]
        await send_checkout_link(uow, customer=customer, token=token, lines=lines, expires_at=expires_at)
    await uow.flush()
    return CreatedLink(link, token)


async def deactivate_checkout_links(uow: UnitOfWork, *, link_ids: Sequence[int], actor: Actor) -> list[CheckoutLink]:
    """Withdraw links: their pay pages say so from now on. Orders they already placed stay as they are."""
    rows = await uow.session.scalars(
        sa.select(CheckoutLink)
        .where(CheckoutLink.id.in_(sorted(set(link_ids))))
        .order_by(CheckoutLink.id)
        .with_for_update(of=CheckoutLink)
    )
    links = list(rows.unique().all())
    if not links:
        raise NotFound(N_("The selected records no longer exist."))
    for link in links:
        if link.is_active:
            uow.track(link)
            link.is_active = False
            link.updated_at = uow.now()
    uow.audit_changes(actor, "deactivate")
    await uow.flush()
    return links


async def deactivate_checkout_link(uow: UnitOfWork, *, link_id: int, actor: Actor) -> CheckoutLink:
    (link,) = await deactivate_checkout_links(uow, link_ids=[link_id], actor=actor)
    return link


async def place_link_order(uow: UnitOfWork, *, token: str, visit_key: str, actor: Actor) -> PlacedOrder:
    """The order a visit to a checkout link pays: placed under a lock on the link, idempotent per visit.

    The same visit sent twice returns its first order. When every use is taken but one of the link's orders still
    awaits payment, that order is returned (to be paid with a fresh checkout). Raises NotFound for an unknown
    token, LinkUnavailable for an expired, used-up or withdrawn link.
    """
    session = uow.session
    link = await find_link(session, token, lock=True)
    if link is None:
        raise UnknownLink
    key = f"link:{link.id}:{visit_key[:100]}"
    repeated = (await session.scalars(sa.select(Order).where(Order.idempotency_key == key))).unique().one_or_none()
    if repeated is not None:
        return PlacedOrder(repeated, None, created=False)
    status = link_status(link, now=uow.now(), uses=await link_uses(session, link.id))
    if status == LinkStatus.USED_UP and (waiting := await _waiting_order(session, link.id)) is not None:
        return PlacedOrder(waiting, None, created=False)
    if status != LinkStatus.ACTIVE:
        raise LinkUnavailable(status)
    customer = link.customer
    checkout = CheckoutInput(
        email=customer.email,
        items=link_lines(link),
        country=customer.country,
        company=customer.company,
        vat_id=customer.vat_id,
        locale=customer.locale,
        idempotency_key=key,
    )
    return await place_checkout_order(uow, checkout, source=OrderSource.LINK, actor=actor, checkout_link_id=link.id)
