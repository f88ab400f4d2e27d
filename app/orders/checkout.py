"""A client's checkout: the price it would cost (the live quote), then the order placed for it.

Who buys is found or created by email; how the order is taxed is the VAT engine's decision on the buyer's
facts, the seller's settings and the year's EU consumer sales. Quote and order use the same rules
(``line_terms``, ``decide_order_tax``), so the live price never promises what checkout then charges.

Someone typing a known email address never changes that customer's stored profile (nobody is logged in here):
what they entered for this purchase is kept on the order as the buyer facts its tax was decided on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.catalog.models import Service
from app.customers.models import Customer
from app.customers.services import CustomerInput
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, Message
from app.invoicing.tax import Buyer, TaxDecision
from app.invoicing.vat_ids import InvalidVatId, normalise_vat_id
from app.orders.commands import PlacedOrder, place_order
from app.orders.links import InvalidLink, normalise_link
from app.orders.models import OrderSource
from app.orders.placing import LineInput, line_terms
from app.orders.pricing import Totals, order_totals
from app.orders.taxing import decide_order_tax
from app.uow import UnitOfWork

QUOTE_EMAIL = "quote@example.com"  # a quote needs no email address; the buyer check wants one


@dataclass(frozen=True)
class CheckoutInput:
    email: str
    items: Sequence[LineInput]
    country: str = "DE"
    company: str | None = None
    vat_id: str | None = None
    locale: str = "de"
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Quote:
    totals: Totals
    tax: TaxDecision
    buyer: Buyer
    links: tuple[str | None, ...]  # each line's link as it will be sent to the provider (None: not given yet)


def buyer_of(checkout: CheckoutInput) -> tuple[CustomerInput, Buyer]:
    """The buyer as entered, normalised (raises ValidationFailed per field), and the facts their tax rests on.

    A VAT ID must be one of the buyer's country (the prefix decides reverse charge, §13b UStG).
    """
    buyer = CustomerInput(
        email=checkout.email,
        company=checkout.company,
        country=checkout.country,
        vat_id=checkout.vat_id,
        locale=checkout.locale,
    ).cleaned()
    if buyer.vat_id:
        try:
            buyer = replace(buyer, vat_id=normalise_vat_id(buyer.vat_id, buyer.country))
        except InvalidVatId as exc:
            raise ValidationFailed({"vat_id": exc.text}) from exc
    facts = Buyer(country=buyer.country, is_business=bool(buyer.company or buyer.vat_id), vat_id=buyer.vat_id)
    return buyer, facts


async def quote(session: AsyncSession, checkout: CheckoutInput, *, on: date) -> Quote:
    """The price of a checkout; raises ValidationFailed (the keys ``place_order`` uses) for what cannot be priced.

    Links are checked when given: a price shows before the client has pasted theirs.
    """
    ids = {item.service_id for item in checkout.items}
    active = sa.select(Service).where(Service.id.in_(ids), Service.is_active)
    services = {service.id: service for service in await session.scalars(active)}
    errors: dict[str, str | Message] = {}
    nets, links = [], []
    for position, item in enumerate(checkout.items, start=1):
        service = services.get(item.service_id)
        if service is None:
            raise NotFound(N_("This service does not exist or is no longer offered."))
        try:
            nets.append(line_terms(service, item, position).net)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        link = None
        if item.link.strip():
            try:
                link = normalise_link(service.category.platform, item.link)
            except InvalidLink as exc:
                errors[f"lines[{position - 1}].link"] = exc.text
        links.append(link)
    try:
        _customer, buyer = buyer_of(replace(checkout, email=checkout.email or QUOTE_EMAIL))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    net = sum(nets, Decimal("0.00"))
    tax = await decide_order_tax(session, buyer, on=on, net=net)
    return Quote(totals=order_totals(nets, tax), tax=tax, buyer=buyer, links=tuple(links))


async def customer_for_checkout(uow: UnitOfWork, buyer: CustomerInput, actor: Actor) -> Customer:
    """The customer with this email address, created (with what they entered) if they are new."""
    now = uow.now()
    created_id = await uow.session.scalar(
        insert(Customer)
        .values(
            email=buyer.email,
            company=buyer.company,
            country=buyer.country,
            vat_id=buyer.vat_id,
            vat_id_entered_by=actor.describe() if buyer.vat_id else None,
            vat_id_entered_at=now if buyer.vat_id else None,
            locale=buyer.locale,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[Customer.email])
        .returning(Customer.id)
    )
    customer = await uow.session.scalar(sa.select(Customer).where(Customer.email == buyer.email))
    assert customer is not None  # inserted above or already there
    if created_id is not None:
        uow.audit(actor, "create", "customer", customer.id, details={"email": buyer.email, "source": "checkout"})
    return customer


async def place_checkout_order(
    uow: UnitOfWork, checkout: CheckoutInput, *, source: OrderSource, actor: Actor, checkout_link_id: int | None = None
) -> PlacedOrder:
    """Validate the buyer, decide the tax, place the order awaiting payment (idempotent on the form's key)."""
    customer_input, _buyer = buyer_of(checkout)
    priced = await quote(uow.session, checkout, on=uow.now().date())
    customer = await customer_for_checkout(uow, customer_input, actor)
    return await place_order(
        uow,
        customer_id=customer.id,
        items=checkout.items,
        source=source,
        actor=replace(actor, id=actor.id or str(customer.id)),
        tax=priced.tax,
        buyer=priced.buyer,
        idempotency_key=checkout.idempotency_key,
        checkout_link_id=checkout_link_id,
    )
