"""Which requests the cached-pages layer may answer from the tracking pages' store: the paths it reads a token
from, and the page or JSON view chosen from ``Accept`` as the tracking handler chooses it."""

from __future__ import annotations

import pytest

from storefront.cached_pages import Asked, tracking_token_of


@pytest.mark.parametrize(
    ("path", "token"),
    [
        ("/track/abc-DEF_123", "abc-DEF_123"),
        ("/track/", None),
        ("/track/abc/documents/RE-2026-000001.pdf", None),
        ("/track/abc/", None),
        ("/tracking/abc", None),
        ("/services/abc", None),
    ],
)
def test_only_a_tracking_page_path_gives_a_token(path: str, token: str | None):
    assert tracking_token_of(path) == token


@pytest.mark.parametrize(
    ("accept", "json"),
    [
        (None, False),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),
        ("application/json", True),
        ("application/json, text/plain, */*", True),
        ("text/html;q=0.5, application/json", True),
        ("*/*", False),
    ],
)
def test_the_json_view_is_chosen_as_the_handler_chooses_it(accept: str | None, json: bool):
    headers = [(b"accept-language", b"de")] + ([(b"accept", accept.encode())] if accept else [])

    asked = Asked.of({"headers": headers, "query_string": b"notice=refill-open&lang=en"})

    assert asked.wants_json is json
    assert asked.locale == "en" and asked.query["notice"] == ["refill-open"]
