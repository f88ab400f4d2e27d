"""Reading Business Discovery answers: counts, "not visible", rate limits (error codes and usage headers), a
refused token, and what is only a passing failure."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.instagram.graph_api import Lookup, LookupOutcome, discovery_fields, read_answer, usage_back_off
from app.instagram.profiles import ProfileCounts

OUT = LookupOutcome
COUNTS = {"followers_count": 1500, "follows_count": 310, "media_count": 42, "id": "17841401441775531"}


def answer(status: int, body: object, **headers: str) -> Lookup:
    return read_answer(status, json.dumps(body).encode(), {name.replace("_", "-"): v for name, v in headers.items()})


def error(code: int, subcode: int | None = None, message: str = "boom") -> dict[str, object]:
    found: dict[str, object] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}
    if subcode is not None:
        found["error_subcode"] = subcode
    return {"error": found}


def test_the_documented_answer_gives_the_three_counts():
    lookup = answer(200, {"business_discovery": COUNTS, "id": "17841405309211844"})

    assert lookup == Lookup(OUT.COUNTED, counts=ProfileCounts(followers=1500, following=310, media_count=42))
    assert not lookup.stops_run


def test_the_field_expression_asks_for_the_handle_and_the_counts():
    assert discovery_fields("lena.schmidt") == (
        "business_discovery.username(lena.schmidt){followers_count,follows_count,media_count}"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"business_discovery": {**COUNTS, "followers_count": None}},
        {"business_discovery": {**COUNTS, "media_count": -1}},
        {"business_discovery": {**COUNTS, "follows_count": "310"}},
        {"business_discovery": {**COUNTS, "followers_count": True}},
        {"id": "17841405309211844"},
        ["not", "an", "object"],
    ],
)
def test_an_answer_without_usable_counts_is_a_passing_failure(body: object):
    assert answer(200, body).outcome == OUT.UNAVAILABLE


def test_garbage_and_server_errors_are_passing_failures():
    assert read_answer(502, b"<html>Bad Gateway</html>", {}).outcome == OUT.UNAVAILABLE
    lookup = answer(500, error(1, message="An unknown error has occurred."))
    assert lookup.outcome == OUT.UNAVAILABLE and not lookup.stops_run and "code 1" in lookup.reason
    assert answer(503, {"ok": False}).outcome == OUT.UNAVAILABLE


@pytest.mark.parametrize(("code", "subcode"), [(110, 2207013), (110, None), (100, 2207013)])
def test_a_personal_or_unknown_account_is_not_visible(code: int, subcode: int | None):
    lookup = answer(400, error(code, subcode, "Invalid user id"))

    assert lookup.outcome == OUT.NOT_VISIBLE and not lookup.stops_run
    assert "Invalid user id" in lookup.reason


def test_another_invalid_parameter_is_not_taken_for_a_hidden_profile():
    assert answer(400, error(100, 33, "Unsupported get request.")).outcome == OUT.UNAVAILABLE


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80002])
def test_rate_limit_codes_stop_the_run_and_back_off_an_hour(code: int):
    lookup = answer(400, error(code, message="request limit reached"))

    assert lookup.outcome == OUT.RATE_LIMITED and lookup.stops_run
    assert lookup.back_off == timedelta(hours=1)


def test_a_rate_limit_with_a_longer_regain_time_waits_that_long():
    usage = {"17841405309211844": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 95}]}

    lookup = answer(400, error(80002), x_business_use_case_usage=json.dumps(usage))

    assert lookup.back_off == timedelta(minutes=95)


def test_a_refused_token_stops_the_run_without_backing_off():
    lookup = answer(400, error(190, 463, "Error validating access token: Session has expired"))

    assert lookup.outcome == OUT.TOKEN_REFUSED and lookup.stops_run and lookup.back_off is None
    assert "Session has expired" in lookup.reason


def test_counts_with_usage_headers_at_the_limit_are_kept_and_the_run_backs_off():
    lookup = answer(200, {"business_discovery": COUNTS}, x_app_usage='{"call_count": 96, "total_time": 10}')

    assert lookup.outcome == OUT.COUNTED and lookup.counts is not None
    assert lookup.stops_run and lookup.back_off == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("headers", "back_off"),
    [
        ({}, None),
        ({"x-app-usage": '{"call_count": 40, "total_cputime": 12, "total_time": 20}'}, None),
        ({"x-app-usage": '{"call_count": 40, "total_cputime": 91, "total_time": 20}'}, timedelta(minutes=15)),
        ({"x-app-usage": "not json"}, None),
        (
            {"x-business-use-case-usage": '{"1": [{"call_count": 20, "estimated_time_to_regain_access": 0}]}'},
            None,
        ),
        (
            {"x-business-use-case-usage": '{"1": [{"call_count": 20, "estimated_time_to_regain_access": 40}]}'},
            timedelta(minutes=40),
        ),
        ({"x-business-use-case-usage": '{"1": [{"total_time": 100}], "2": "odd"}'}, timedelta(minutes=15)),
    ],
)
def test_usage_headers_say_when_to_back_off(headers: dict[str, str], back_off: timedelta | None):
    assert usage_back_off(headers) == back_off
