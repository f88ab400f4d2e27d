"""A client's checkout: who buys (customer found or created by email), how the order is taxed, the order placed.

The storefront and checkout links call :func:`place_checkout_order`; the payment itself follows through the
gateway and ``app/payments/commands.py``. Someone typing a known email address never changes that customer's
stored profile (nobody is logged in here): what they entered for this purchase is kept on the order as the
buyer facts its tax was decided on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.actors import Actor
from app.customers.models import Customer
from app.customers.services import CustomerInput
from app.orders.commands import PlacedOrder, place_order
from app.orders.models import OrderSource
from app.orders.placing import LineInput
from app.orders.taxing import BuyerFacts, decide_order_tax
from app.uow import UnitOfWork


@dataclass(frozen=True)
class CheckoutInput:
    email: str
    items: Sequence[LineInput]
    country: str = "DE"
    company: str | None = None
    vat_id: str | None = None
    locale: str = "de"
    idempotency_key: str | None = None


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


def buyer_of(checkout: CheckoutInput) -> tuple[CustomerInput, BuyerFacts]:
    """The buyer as entered, normalised (raises ValidationFailed per field), and the facts their tax rests on."""
    buyer = CustomerInput(
        email=checkout.email,
        company=checkout.company,
        country=checkout.country,
        vat_id=checkout.vat_id,
        locale=checkout.locale,
    ).cleaned()
    return buyer, BuyerFacts(
        country=buyer.country, is_business=bool(buyer.company or buyer.vat_id), vat_id=buyer.vat_id
    )


async def place_checkout_order(
    uow: UnitOfWork, checkout: CheckoutInput, *, source: OrderSource, actor: Actor, checkout_link_id: int | None = None
) -> PlacedOrder:
    """Validate the buyer, decide the tax, place the order awaiting payment (idempotent on the form's key)."""
    buyer, facts = buyer_of(checkout)
    tax = await decide_order_tax(uow.session, facts, on=uow.now().date())
    customer = await customer_for_checkout(uow, buyer, actor)
    return await place_order(
        uow,
        customer_id=customer.id,
        items=checkout.items,
        source=source,
        actor=replace(actor, id=actor.id or str(customer.id)),
        tax=tax,
        buyer=facts,
        idempotency_key=checkout.idempotency_key,
        checkout_link_id=checkout_link_id,
    )
