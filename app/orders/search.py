"""Finding orders by what staff type: an order number, a fragment of a customer or a link, a provider's id."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.customers.models import Customer
from app.db.search import contains_pattern
from app.orders.models import Order, OrderLine
from app.orders.numbers import looks_like_order_number
from app.validation import parse_id

MIN_FUZZY_SEARCH = 3

NUMBER_PREFIX = re.compile(r"^s(m(p(-(\d{1,4}(-)?)?)?)?)?$", re.IGNORECASE)
# The parts every link shares: a search for "instagram" or "youtube.com/watch" would match most of a million
# lines (a full scan of them) and tells staff nothing, so such terms do not search links; the Service filter
# narrows orders by what was bought.
URL_PREFIXES = (
    "https://www.instagram.com/p/",
    "https://www.instagram.com/reel/",
    "https://www.tiktok.com/@",
    "https://www.youtube.com/watch?v=",
    "https://www.youtube.com/@",
    "https://youtu.be/",
    "https://www.facebook.com/",
    "https://x.com/",
    "https://twitter.com/",
    "https://t.me/",
    "https://open.spotify.com/",
)


def is_url_boilerplate(term: str) -> bool:
    lowered = term.lower()
    return any(lowered in prefix for prefix in URL_PREFIXES)


def order_search_condition(term: str) -> sa.ColumnElement[bool] | None:
    """Exact order number, else fragments of number, customer email/name/company, line link or provider id.

    None means the term narrows nothing (the number prefix every order shares).
    """
    term = term.strip()
    if looks_like_order_number(term):
        return Order.number == term.upper()
    if len(term) < MIN_FUZZY_SEARCH:
        pk = parse_id(term)
        return Order.id == pk if pk is not None else sa.false()
    if NUMBER_PREFIX.match(term):
        return None  # "SMP", "SMP-2026-": every order number starts like this
    pattern = contains_pattern(term)
    customers = sa.select(Customer.id).where(
        sa.or_(Customer.email.ilike(pattern), Customer.name.ilike(pattern), Customer.company.ilike(pattern))
    )
    branches = [
        sa.select(Order.id).where(Order.number.ilike(pattern)),
        sa.select(Order.id).where(Order.customer_id.in_(customers)),
        sa.select(OrderLine.order_id).where(OrderLine.provider_order_id == term),
    ]
    if not is_url_boilerplate(term):
        branches.append(sa.select(OrderLine.order_id).where(OrderLine.link.ilike(pattern)))
    return Order.id.in_(sa.union(*branches))


def line_search_condition(term: str) -> sa.ColumnElement[bool]:
    """Order lines by a fragment of their link or the provider's exact order id."""
    term = term.strip()
    if len(term) < MIN_FUZZY_SEARCH:
        return OrderLine.provider_order_id == term
    return sa.or_(OrderLine.link.ilike(contains_pattern(term)), OrderLine.provider_order_id == term)
