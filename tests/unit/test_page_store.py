"""The store of rendered pages (storefront/page_cache.py): a page answers only for the version it was stored
with, and a bounded store lets the least recently asked page go first."""

from __future__ import annotations

from storefront.page_cache import PageStore


def test_a_page_answers_only_for_the_version_it_was_stored_with():
    store: PageStore[str] = PageStore()
    store.put("a", (1, "x"), b"one")

    assert store.get("a", (1, "x")) is not None and store.get("a", (2, "x")) is None
    page = store.peek("a")
    assert page is not None and page.version == (1, "x") and page.body == b"one"


def test_a_bounded_store_lets_the_least_recently_asked_page_go():
    store: PageStore[str] = PageStore(max_pages=2)
    store.put("a", 1, b"a")
    store.put("b", 1, b"b")
    assert store.get("a", 1) is not None  # "b" is now the least recently asked

    store.put("c", 1, b"c")

    assert store.peek("b") is None
    assert store.peek("a") is not None and store.peek("c") is not None
