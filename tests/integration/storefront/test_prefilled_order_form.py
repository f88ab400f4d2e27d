"""The service page's order form filled from its link (``?link=…&quantity=…``, the portal's "Order again"): what
could be typed is taken, the rest is left blank, and the cached page for everyone else stays empty."""

from __future__ import annotations

from tests import factories


async def test_link_and_quantity_in_the_query_fill_the_order_form(client, session):
    await factories.service(session, slug="likes", min_quantity=100, max_quantity=10000)
    await session.commit()

    page = await client.get("/services/likes", params={"link": "https://www.instagram.com/p/abc/", "quantity": "500"})

    assert page.status_code == 200
    assert 'value="https://www.instagram.com/p/abc/"' in page.text and 'name="quantity"' in page.text
    assert 'value="500"' in page.text


async def test_a_quantity_out_of_range_and_markup_in_the_link_are_not_taken_as_typed(client, session):
    await factories.service(session, slug="likes", min_quantity=100, max_quantity=10000)
    await session.commit()

    too_many = await client.get("/services/likes", params={"quantity": "50000"})
    not_a_number = await client.get("/services/likes", params={"quantity": "5e3"})
    markup = await client.get("/services/likes", params={"link": '"><script>alert(1)</script>'})

    assert 'value="50000"' not in too_many.text and 'value="5e3"' not in not_a_number.text
    assert "<script>alert(1)" not in markup.text
    assert "&#34;&gt;&lt;script&gt;" in markup.text or "&quot;&gt;&lt;script&gt;" in markup.text


async def test_a_prefilled_page_is_never_what_the_next_visitor_gets_from_the_cache(client, session):
    await factories.service(session, slug="likes")
    await session.commit()

    await client.get("/services/likes", params={"link": "https://www.instagram.com/p/mine/", "quantity": "500"})
    plain = await client.get("/services/likes")
    again = await client.get("/services/likes")

    assert "instagram.com/p/mine" not in plain.text and "instagram.com/p/mine" not in again.text
