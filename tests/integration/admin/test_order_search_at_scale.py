"""The orders list's search and count for terms many orders share, with the thresholds lowered to a few rows.

On a million orders a common term (an email domain, a first name) is searched row by row along the newest orders
and counted from a sample; a rare one names its customers and orders. Whichever way, the list must show exactly
the orders the plain search condition finds, newest first, and a count that never breaks on what staff type.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from admin import listing
from app.accounts.models import Role
from app.orders import search
from app.orders.models import Order
from app.orders.search import order_search_condition, resolved_order_search_condition
from tests import factories
from tests.integration.admin.helpers import login_as, order_numbers

SHOWING = re.compile(r"Showing (\d+) to (\d+) of (\d+) items")
# Customer names with what breaks SQL built from strings: a bind-parameter colon, LIKE wildcards, a quote.
AWKWARD_NAMES = {"ad:hoc": "Ad:Hoc Media", "50%": "50% Reach", "x_y": "X_Y Studios", "o'brien": "O'Brien Media"}


async def numbers_in_list_order(session, condition) -> list[str]:
    stmt = sa.select(Order.number).order_by(Order.id.desc())
    if condition is not None:
        stmt = stmt.where(condition)
    return list((await session.scalars(stmt)).all())


async def customer_with_orders(session, orders: int, **values: str):
    buyer = await factories.customer(session, **values)
    for _ in range(orders):
        await factories.place_order(session, buyer=buyer)
    return buyer


async def analyze_orders(session) -> None:
    """Fresh statistics, committed: the list then sees a table larger than the count's cap."""
    await session.execute(sa.text("ANALYZE orders"))
    await session.commit()


def shown_count(page: str) -> int:
    match = SHOWING.search(page)
    assert match, "no 'Showing … of … items' on the page"
    return int(match.group(3))


@pytest.fixture
async def shop(session):
    """Two customers on one mail domain, one elsewhere, a link and an order number to find; committed."""
    await customer_with_orders(session, 3, email="anna.berg@gmx.de", name="Anna Berg")
    await customer_with_orders(session, 2, email="jonas.wolf@gmx.de", name="Jonas Wolf")
    await customer_with_orders(session, 2, email="hannah.kraus@web.de", name="Hannah Kraus")
    service = await factories.service(session)
    await factories.place_order(session, items=[(service, 1000, "https://www.instagram.com/p/gmxAnnaPost/")])
    await session.commit()


TERMS = ["gmx", "anna", "jonas", "web.de", "gmxanna", "instagram.com/p/", "SMP-", "000001", "kraus", "nobody-here"]


WORDINGS = {
    "common-terms-searched-again": (0, 0),
    "common-terms-as-id-sets": (0, 1000),
    "common-and-rare": (1, 1),
    "rare-terms-as-constants": (1000, 1000),
}


@pytest.mark.parametrize(("inline", "listed"), WORDINGS.values(), ids=WORDINGS.keys())
@pytest.mark.parametrize("term", TERMS)
async def test_the_worded_search_finds_the_rows_of_the_plain_one_in_the_same_order(
    shop, session, monkeypatch, term, inline, listed
):
    monkeypatch.setattr(search, "INLINE_CUSTOMERS", inline)
    monkeypatch.setattr(search, "INLINE_LINES", inline)
    monkeypatch.setattr(search, "LISTED_IDS", listed)

    worded = await resolved_order_search_condition(session, term)

    expected = await numbers_in_list_order(session, order_search_condition(term))
    assert await numbers_in_list_order(session, worded) == expected


async def test_a_term_many_customers_share_lists_their_orders_newest_first(shop, web, session, monkeypatch):
    monkeypatch.setattr(search, "INLINE_CUSTOMERS", 1)
    await login_as(session, web, Role.STAFF)
    expected = await numbers_in_list_order(session, order_search_condition("gmx"))
    assert len(expected) == 6  # five orders of the two gmx customers, and the order whose link says gmx

    page = await web.get("/admin/order/list", params={"search": "gmx", "pageSize": "5"})

    assert page.status_code == 200
    assert numbers_in_page_order(page.text) == expected[:5]
    assert shown_count(page.text) == 6


def numbers_in_page_order(page: str) -> list[str]:
    seen: list[str] = []
    for number in re.findall(r"SMP-\d{4}-\d{6,}", page):
        if number not in seen:
            seen.append(number)
    return seen


async def test_a_common_term_over_a_large_table_is_counted_from_a_sample(shop, web, session, monkeypatch):
    """The whole table is the sample here (a few rows): the estimate must then be the exact count."""
    monkeypatch.setattr(search, "INLINE_CUSTOMERS", 1)
    monkeypatch.setattr(listing, "EXACT_COUNT_CAP", 2)
    monkeypatch.setattr(listing, "SAMPLE_MIN_MATCHES", 1)
    sampled = spy(monkeypatch, "_sampled_estimate")
    await analyze_orders(session)
    await login_as(session, web, Role.STAFF)

    page = await web.get("/admin/order/list", params={"search": "gmx"})

    assert page.status_code == 200
    assert sampled.calls, "the count did not come from the sample"
    assert shown_count(page.text) == 6
    assert order_numbers(page.text) == set(await numbers_in_list_order(session, order_search_condition("gmx")))


def spy(monkeypatch, name: str):
    original = getattr(listing, name)

    async def recorded(*args, **kwargs):
        recorded.calls.append(args)  # type: ignore[attr-defined]
        return await original(*args, **kwargs)

    recorded.calls = []  # type: ignore[attr-defined]
    monkeypatch.setattr(listing, name, recorded)
    return recorded


@pytest.mark.parametrize("analyzed", [False, True], ids=["fresh-table", "analyzed-table"])
@pytest.mark.parametrize("term", sorted(AWKWARD_NAMES))
async def test_terms_with_colons_wildcards_and_quotes_are_counted_past_the_cap(
    web, session, monkeypatch, term, analyzed
):
    monkeypatch.setattr(listing, "EXACT_COUNT_CAP", 3)
    estimated = spy(monkeypatch, "_planner_estimate")
    for name in AWKWARD_NAMES.values():
        await customer_with_orders(session, 4, name=name)
    await session.commit()
    if analyzed:
        await analyze_orders(session)
    await login_as(session, web, Role.STAFF)
    expected = await numbers_in_list_order(session, order_search_condition(term))
    assert len(expected) == 4

    page = await web.get("/admin/order/list", params={"search": term})

    assert page.status_code == 200
    assert estimated.calls, "the count never asked the planner"
    assert order_numbers(page.text) == set(expected)
    assert shown_count(page.text) >= 4


@pytest.mark.parametrize("term", sorted(AWKWARD_NAMES))
async def test_the_planner_estimate_takes_the_term_as_a_parameter(session, term):
    statement = sa.select(Order).where(order_search_condition(term))

    rows, _trusted = await listing._planner_estimate(session, statement)

    assert rows >= 0
