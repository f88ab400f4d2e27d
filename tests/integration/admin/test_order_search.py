"""The orders list search: an exact order number, a customer's email fragment, a fragment of a line's link."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.customers.models import Customer
from app.orders.models import Order, OrderLine
from tests.integration.admin.helpers import order_numbers


async def search(backoffice, term: str, identity: str = "order") -> str:
    response = await backoffice.as_role(Role.STAFF).get(f"/admin/{identity}/list", params={"search": term})
    assert response.status_code == 200
    return response.text


async def numbers_where(backoffice, *conditions) -> set[str]:
    async with backoffice.sessions() as session:
        stmt = sa.select(Order.number).join(Customer, Customer.id == Order.customer_id).where(*conditions)
        return set((await session.scalars(stmt)).all())


async def test_an_exact_order_number_finds_that_order_only(backoffice):
    (number,) = await numbers_where(backoffice, Order.idempotency_key == "seed:queued")

    assert order_numbers(await search(backoffice, number)) == {number}
    assert order_numbers(await search(backoffice, f"  {number.lower()} ")) == {number}


async def test_a_fragment_of_the_customer_email_finds_all_their_orders(backoffice):
    expected = await numbers_where(backoffice, Customer.email == "office@bergblick-media.at")
    assert len(expected) > 1

    assert order_numbers(await search(backoffice, "bergblick-media")) == expected


async def test_a_fragment_of_a_line_link_finds_the_order(backoffice):
    expected = await numbers_where(backoffice, Order.idempotency_key == "seed:completed")
    async with backoffice.sessions() as session:
        links = (await session.scalars(sa.select(OrderLine.link).where(OrderLine.link.ilike("%lindenblatt2%")))).all()
    assert links and all("reel/Lindenblatt2" in link for link in links)

    assert order_numbers(await search(backoffice, "reel/lindenblatt2")) == expected


async def test_a_term_that_matches_nothing_finds_nothing(backoffice):
    assert order_numbers(await search(backoffice, "no-such-customer-anywhere")) == set()


@pytest.mark.parametrize("term", ["%%%", "___", "%_%"])
async def test_like_wildcards_in_the_order_search_are_taken_literally(backoffice, term):
    assert order_numbers(await search(backoffice, term)) == set()


@pytest.mark.parametrize("term", ["%%%", "___"])
async def test_like_wildcards_in_the_customer_search_are_taken_literally(backoffice, term):
    page = await search(backoffice, term, identity="customer")
    assert "lena.schmidt@example.de" not in page
    assert "office@bergblick-media.at" not in page
