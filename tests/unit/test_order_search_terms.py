"""How the orders search reads a term (no database needed)."""

from __future__ import annotations

import pytest

from app.orders.search import NUMBER_PREFIX, is_url_boilerplate


@pytest.mark.parametrize("term", ["instagram", "www.youtube.com", "tiktok.com/@", "https://", "watch?v="])
def test_parts_every_link_shares_do_not_search_links(term):
    assert is_url_boilerplate(term)


@pytest.mark.parametrize("term", ["lena.schmidt", "reel/Berg", "C0demo01", "instagram.com/p/Lindenblatt1"])
def test_parts_naming_a_profile_or_post_search_links(term):
    assert not is_url_boilerplate(term)


@pytest.mark.parametrize(
    ("term", "prefix"),
    [("SMP", True), ("smp-2026-", True), ("SMP-2026-0001", False), ("000123", False), ("SMX", False)],
)
def test_the_order_number_prefix_alone_matches_every_order(term, prefix):
    assert bool(NUMBER_PREFIX.match(term)) is prefix
