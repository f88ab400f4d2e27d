"""A price before ordering: what a checkout would cost, with the VAT the buyer's facts lead to.

Reads only, with the rules that place the order (``line_terms``, the VAT engine), so the live price never
promises what checkout then charges differently. Links are checked when given (a price shows before the
client has pasted theirs).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Service
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, Message
from app.invoicing.tax import TaxDecision
from app.orders.checkout import CheckoutInput, buyer_of
from app.orders.links import InvalidLink, normalise_link
from app.orders.placing import line_terms
from app.orders.pricing import Totals, order_totals
from app.orders.taxing import decide_order_tax

QUOTE_EMAIL = "quote@example.com"  # a quote needs no email; the buyer check wants one


@dataclass(frozen=True)
class Quote:
    totals: Totals
    tax: TaxDecision
    links: tuple[str | None, ...]  # each line's link as it will be sent to the provider (None: not given yet)


async def quote(session: AsyncSession, checkout: CheckoutInput, *, on: date) -> Quote:
    """The price of a checkout; raises ValidationFailed (the keys ``place_order`` uses) for what cannot be priced."""
    ids = {item.service_id for item in checkout.items}
    services = {
        s.id: s for s in await session.scalars(sa.select(Service).where(Service.id.in_(ids), Service.is_active))
    }
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
        _buyer, facts = buyer_of(replace(checkout, email=checkout.email or QUOTE_EMAIL))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    tax = await decide_order_tax(session, facts, on=on)
    return Quote(totals=order_totals(nets, tax), tax=tax, links=tuple(links))
