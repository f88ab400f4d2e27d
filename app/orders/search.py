"""Finding orders by what staff type: an order number, a fragment of a customer or a link, a provider's id.

Two forms of the same search, giving the same rows:

- ``order_search_condition(term)`` is one SQL condition, built without the database (exports, any caller that
  cannot await). It collects the ids of every matching order first, which is right for rare terms.
- ``resolved_order_search_condition(session, term)`` looks at the customers and lines a term matches first (one
  cheap round trip) and words the condition so that PostgreSQL plans it well for *any* term. A common term (an
  email domain, a first name: thousands of customers, a fifth of all orders) is tested row by row while the list
  walks the orders newest first, so a page of 50 stops after a few hundred rows instead of collecting every
  match; a rare one names its few customers and orders as constants, so the planner sees how few they are and
  reads them through indexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.customers.models import Customer
from app.db.search import contains_pattern
from app.orders.models import Order, OrderLine
from app.orders.numbers import looks_like_order_number
from app.validation import parse_id

MIN_FUZZY_SEARCH = 3
# Beyond these many matching customers (lines), a term is common: its orders are tested row by row while the
# list walks the newest orders, instead of being named one by one. A rare term's ids go into the statement as
# constants, which the planner estimates exactly (and plans in well under a millisecond at these sizes).
INLINE_CUSTOMERS = 300
INLINE_LINES = 1000
# At most this many matching customer (line) ids are read; a term matching more is searched again in SQL.
LISTED_IDS = 20_000
ID_ARRAY = postgresql.ARRAY(sa.BigInteger())

NUMBER_PREFIX = re.compile(r"^s(m(p(-(\d{1,4}(-)?)?)?)?)?$", re.IGNORECASE)
# Order numbers are SMP-YYYY-NNNNNN (a CHECK constraint holds it): a term with any other character is no
# fragment of one, and the number needs no test.
NUMBER_CHARACTERS = re.compile(r"^[smp0-9-]+$", re.IGNORECASE)
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


def may_be_in_an_order_number(term: str) -> bool:
    return NUMBER_CHARACTERS.match(term) is not None


@dataclass(frozen=True)
class FuzzyTerm:
    """A fragment searched in order numbers, customers (email, name, company) and lines (link, provider id)."""

    term: str

    @property
    def pattern(self) -> str:
        return contains_pattern(self.term)

    def number_matches(self) -> sa.ColumnElement[bool] | None:
        return Order.number.ilike(self.pattern) if may_be_in_an_order_number(self.term) else None

    def customer_matches(self) -> sa.ColumnElement[bool]:
        pattern = self.pattern
        # Emails are stored lowercase (a CHECK holds it): LIKE against the lowercased pattern matches exactly what
        # ILIKE would, at half the cost (ILIKE lowercases every email it tests).
        return sa.or_(
            Customer.email.like(sa.func.lower(pattern)), Customer.name.ilike(pattern), Customer.company.ilike(pattern)
        )

    def line_matches(self) -> sa.ColumnElement[bool]:
        by_provider_id = OrderLine.provider_order_id == self.term
        if is_url_boilerplate(self.term):
            return by_provider_id
        return sa.or_(by_provider_id, OrderLine.link.ilike(self.pattern))


def _plain_condition(term: str) -> sa.ColumnElement[bool] | FuzzyTerm | None:
    """The condition for terms that need no fuzzy search, else the FuzzyTerm to search."""
    term = term.strip()
    if looks_like_order_number(term):
        return Order.number == term.upper()
    if len(term) < MIN_FUZZY_SEARCH:
        pk = parse_id(term)
        return Order.id == pk if pk is not None else sa.false()
    if NUMBER_PREFIX.match(term):
        return None  # "SMP", "SMP-2026-": every order number starts like this
    return FuzzyTerm(term)


def order_number_condition(term: str) -> sa.ColumnElement[bool] | None:
    """Orders whose number is ``term`` or contains it (other records found by their order's number: payments)."""
    plain = _plain_condition(term)
    if isinstance(plain, FuzzyTerm):
        return plain.number_matches()
    return plain


def order_search_condition(term: str) -> sa.ColumnElement[bool] | None:
    """Exact order number, else fragments of number, customer email/name/company, line link or provider id.

    None means the term narrows nothing (the number prefix every order shares).
    """
    plain = _plain_condition(term)
    if not isinstance(plain, FuzzyTerm):
        return plain
    branches: list[sa.Select[tuple[int]]] = [
        sa.select(Order.id).where(Order.customer_id.in_(sa.select(Customer.id).where(plain.customer_matches()))),
        sa.select(OrderLine.order_id).where(plain.line_matches()),
    ]
    if (number := plain.number_matches()) is not None:
        branches.append(sa.select(Order.id).where(number))
    return Order.id.in_(sa.union(*branches))


async def resolved_order_search_condition(session: AsyncSession, term: str) -> sa.ColumnElement[bool] | None:
    """The rows of ``order_search_condition(term)``, worded after one look at what the term matches.

    The ids of matching customers and lines are read first (up to LISTED_IDS of each). A few go into the
    condition as constants, which the planner sees: it reads the orders they name through indexes. More mean
    the term is common: each order is tested against the ids as a hashed set (or, beyond LISTED_IDS, against the
    search itself), which lets a list ordered by id stop after its page instead of collecting every match.
    The ids are those of the moment the term is looked at (like the list's count, a statement before its rows):
    a customer who signs up in between is found on the next page view.
    """
    plain = _plain_condition(term)
    if not isinstance(plain, FuzzyTerm):
        return plain
    customers = sa.select(Customer.id).where(plain.customer_matches())
    lines = sa.select(OrderLine.order_id).where(plain.line_matches())
    # Materialized: planned for all their rows (through the trigram indexes), read only as far as the limits.
    # A LIMIT right on the query would tempt the planner into testing rows one by one until it has enough.
    found_customers = customers.cte("found_customers").prefix_with("MATERIALIZED")
    found_lines = lines.cte("found_lines").prefix_with("MATERIALIZED")
    probe = sa.select(_listed(found_customers.c.id), _listed(found_lines.c.order_id))
    customer_ids, line_order_ids = (IdList.parse(text) for text in (await session.execute(probe)).one())
    number = plain.number_matches()
    branches: list[sa.ColumnElement[bool]] = []
    if customer_ids.count:
        branches.append(_among(Order.customer_id, customer_ids, customers, INLINE_CUSTOMERS))
    if line_order_ids.count:
        branches.append(_among(Order.id, line_order_ids, lines, INLINE_LINES))
    if number is not None:
        branches.append(number)
    return sa.or_(*branches) if branches else sa.false()


def _listed(ids: sa.ColumnElement[int]) -> sa.ColumnElement[str]:
    """Up to LISTED_IDS + 1 ids (a line's order id may repeat) as PostgreSQL's array text (``{1,2,3}``).

    Text, because thousands of ids cost nothing as one string, but milliseconds as Python ints going through the
    driver's array codec, once to read them and again for every statement that sends them back.
    """
    return sa.cast(sa.func.array(sa.select(ids).limit(LISTED_IDS + 1).scalar_subquery()), sa.Text)


@dataclass(frozen=True)
class IdList:
    """Ids as PostgreSQL's array text, and how many were read."""

    text: str
    count: int

    @classmethod
    def parse(cls, text: str) -> IdList:
        inner = text.strip("{}")
        return cls(text, inner.count(",") + 1 if inner else 0)

    def ints(self) -> list[int]:
        inner = self.text.strip("{}")
        return sorted({int(part) for part in inner.split(",")}) if inner else []


def _among(
    column: InstrumentedAttribute[int], ids: IdList, search: sa.Select[tuple[int]], inline: int
) -> sa.ColumnElement[bool]:
    """``column`` is one of ``ids``, all that ``search`` found (unless there were more than LISTED_IDS)."""
    if ids.count <= inline:
        # Constants the planner sees (PostgreSQL plans each list page with its parameters' values).
        return column == sa.any_(sa.bindparam(None, ids.ints(), type_=ID_ARRAY, unique=True))
    if ids.count > LISTED_IDS:
        return column.in_(search)
    # A hashed set of the ids read, built in well under a millisecond, tested as the list walks the newest orders.
    # "IS TRUE" (the same truth: neither side is ever NULL) keeps PostgreSQL from making it a join, which could
    # not stop after a page; and the planner, which does not look into the set, assumes nothing of its size.
    listed = sa.cast(sa.bindparam(None, ids.text, type_=sa.Text, unique=True), ID_ARRAY)
    return column.in_(sa.select(sa.func.unnest(listed))).is_(sa.true())


def line_search_condition(term: str) -> sa.ColumnElement[bool]:
    """Order lines by a fragment of their link or the provider's exact order id."""
    term = term.strip()
    if len(term) < MIN_FUZZY_SEARCH:
        return OrderLine.provider_order_id == term
    return sa.or_(OrderLine.link.ilike(contains_pattern(term)), OrderLine.provider_order_id == term)
