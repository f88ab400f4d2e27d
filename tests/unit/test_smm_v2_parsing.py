"""API v2 answers: lenient about number shapes, strict about structure, errors sorted into what dispatch needs."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from app.providers.smm_v2 import (
    CustomCommentsOrder,
    DefaultOrder,
    InsufficientFunds,
    ItemError,
    MalformedAnswer,
    NotSent,
    OutcomeUnknown,
    PackageOrder,
    PollOrder,
    ProviderRefused,
    SmmV2Client,
    SubscriptionOrder,
    UpstreamOrderStatus,
    UpstreamRefillStatus,
)
from app.providers.smm_v2_answers import (
    ShapeError,
    as_bool,
    as_count,
    as_decimal,
    as_id,
    as_order_status,
    as_refill_status,
    classify_error,
    decode,
    parse_balance,
    parse_cancel,
    parse_multi_refill,
    parse_multi_refill_status,
    parse_multi_status,
    parse_placed,
    parse_refill,
    parse_refill_status,
    parse_services,
    parse_status,
)

KEY = "a-secret-api-key-0123456789abcdef"


def answer(data: object) -> tuple[object, str]:
    raw = json.dumps(data)
    return json.loads(raw), raw


# -- scalars -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.90", "0.90"), (0.9, "0.9"), (1, "1"), ("1", "1"), (" 2.5 ", "2.5"), ("0.00", "0.00"), (0.1, "0.1")],
)
def test_money_reads_strings_and_numbers_as_exact_decimals(value, expected):
    assert as_decimal(value, "rate") == Decimal(expected)


@pytest.mark.parametrize("value", [True, None, "abc", "", "NaN", "Infinity", float("nan"), [], {}])
def test_money_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(ShapeError, match="rate"):
        as_decimal(value, "rate")


@pytest.mark.parametrize(("value", "expected"), [("50", 50), (50, 50), ("50.00", 50), (50.0, 50), (" 7 ", 7)])
def test_counts_accept_whole_numbers_in_any_shape(value, expected):
    assert as_count(value, "min") == expected


@pytest.mark.parametrize("value", ["50.5", 50.5, "abc", True, None, ""])
def test_counts_refuse_fractions_and_words(value):
    with pytest.raises(ShapeError):
        as_count(value, "min")


def test_counts_can_have_a_floor():
    assert as_count("-5", "remains") == -5  # over-delivery: panels report negative remains
    with pytest.raises(ShapeError, match="less than 0"):
        as_count("-5", "min", minimum=0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("1", True), ("0", False), ("true", True), ("False", False)],
)
def test_yes_no_values_in_their_usual_shapes(value, expected):
    assert as_bool(value, "refill") is expected


def test_missing_yes_no_is_no_and_other_values_are_refused():
    assert as_bool(None, "refill") is False
    with pytest.raises(ShapeError):
        as_bool("maybe", "refill")
    with pytest.raises(ShapeError):
        as_bool(2, "refill")


@pytest.mark.parametrize(("value", "expected"), [(23501, "23501"), ("23501", "23501"), (" ab-1_C ", "ab-1_C")])
def test_ids_become_text(value, expected):
    assert as_id(value, "order") == expected


@pytest.mark.parametrize("value", ["", "a b", "1,2", None, True, 1.5, "x" * 65])
def test_ids_refuse_what_could_not_be_an_id(value):
    with pytest.raises(ShapeError):
        as_id(value, "order")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("In progress", UpstreamOrderStatus.IN_PROGRESS),
        ("in_progress", UpstreamOrderStatus.IN_PROGRESS),
        ("INPROGRESS", UpstreamOrderStatus.IN_PROGRESS),
        ("Cancelled", UpstreamOrderStatus.CANCELED),
        ("partial", UpstreamOrderStatus.PARTIAL),
        ("Processing", UpstreamOrderStatus.PROCESSING),
    ],
)
def test_order_statuses_read_regardless_of_case_and_spelling(value, expected):
    assert as_order_status(value) is expected


def test_unknown_statuses_are_refused():
    with pytest.raises(ShapeError, match="Running"):
        as_order_status("Running")
    with pytest.raises(ShapeError):
        as_refill_status("Partial")
    assert as_refill_status("in progress") is UpstreamRefillStatus.IN_PROGRESS


# -- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["Not enough funds on balance", "Low balance", "not enough funds", "Insufficient funds", "Your balance is too low"],
)
def test_balance_errors_are_insufficient_funds(message):
    assert classify_error(message) is InsufficientFunds


@pytest.mark.parametrize(
    "message",
    [
        "You have active order with this link. Please wait until order being completed.",
        "Incorrect service ID",
        "Service not found",
        "Invalid API key",
        "Quantity less than minimal 50",
        "Incorrect request",
    ],
)
def test_other_error_strings_are_definitive_refusals(message):
    assert classify_error(message) is ProviderRefused


def test_an_error_answer_raises_its_class_with_the_message_and_the_raw_text():
    data = {"error": "Not enough funds on balance"}
    with pytest.raises(InsufficientFunds) as caught:
        decode(json.dumps(data), "add")
    assert caught.value.provider_message == "Not enough funds on balance"
    assert caught.value.raw == json.dumps(data)
    assert str(caught.value) == "add: the provider refused: Not enough funds on balance"


def test_a_null_or_empty_error_is_no_error():
    assert decode('{"order": 1, "error": null}', "add") == {"order": 1, "error": None}
    assert decode('{"order": 1, "error": ""}', "add")["order"] == 1


@pytest.mark.parametrize("raw", ["<html><body>502 Bad Gateway</body></html>", "", "   ", "{not json"])
def test_html_and_garbage_are_malformed_and_so_of_unknown_outcome(raw):
    with pytest.raises(MalformedAnswer) as caught:
        decode(raw, "add")
    assert isinstance(caught.value, OutcomeUnknown)
    assert caught.value.raw == raw


# -- actions -----------------------------------------------------------------------------------------------------


def test_service_list_in_mixed_shapes():
    data, raw = answer(
        [
            {
                "service": 1,
                "name": "Followers",
                "type": "Default",
                "category": "Instagram",
                "rate": "0.90",
                "min": "50",
                "max": "10000",
                "refill": True,
                "cancel": True,
            },
            {"service": "2", "name": "Likes", "rate": 0.45, "min": 20, "max": 5000.0, "refill": "0", "extra": [1]},
        ]
    )
    listing = parse_services(data, raw)
    first, second = listing.services
    assert (first.service_id, first.rate, first.min_quantity, first.max_quantity) == ("1", Decimal("0.90"), 50, 10000)
    assert first.refill and first.cancel and first.category == "Instagram"
    assert (second.service_id, second.rate, second.max_quantity) == ("2", Decimal("0.45"), 5000)
    assert (second.type, second.category, second.refill, second.cancel) == ("Default", None, False, False)
    assert listing.raw == raw


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"service": 1}, "not a list"),
        ([{"service": 1, "name": "A", "min": 1, "max": 2}], "service 1: rate"),
        ([{"service": 1, "name": "A", "rate": "cheap", "min": 1, "max": 2}], "service 1: rate"),
        ([{"service": 1, "name": "A", "rate": "1", "min": 10, "max": 2}], "min 10 is more than max 2"),
        ([{"service": 1, "name": "", "rate": "1", "min": 1, "max": 2}], "service 1: name is missing"),
        ([{"name": "A", "rate": "1", "min": 1, "max": 2}], "service entry 1: service"),
        ([{"service": 1, "name": "A", "rate": "1", "min": 1, "max": 2}] * 2, "listed twice"),
        (["Followers"], "service entry 1 is not an object"),
    ],
)
def test_service_lists_of_the_wrong_shape_are_refused_with_what_is_wrong(data, problem):
    with pytest.raises(MalformedAnswer, match=problem) as caught:
        parse_services(data, json.dumps(data))
    assert caught.value.raw == json.dumps(data)


def test_placed_order_id_as_number_or_string():
    assert parse_placed({"order": 23501}).order_id == "23501"
    assert parse_placed({"order": "23501"}).order_id == "23501"
    with pytest.raises(MalformedAnswer, match="order"):
        parse_placed({"id": 23501}, '{"id": 23501}')
    with pytest.raises(MalformedAnswer):
        parse_placed([23501])


def test_status_with_string_numbers():
    data, raw = answer(
        {"charge": "0.27819", "start_count": "3572", "status": "Partial", "remains": "157", "currency": "USD"}
    )
    status = parse_status("7", data, raw)
    assert status.status is UpstreamOrderStatus.PARTIAL
    assert (status.charge, status.start_count, status.remains, status.currency) == (
        Decimal("0.27819"),
        3572,
        157,
        "USD",
    )
    assert status.raw == raw


def test_status_with_numbers_and_blanks():
    status = parse_status("7", {"charge": 0.5, "start_count": "", "status": "Pending", "remains": 100})
    assert (status.charge, status.start_count, status.remains, status.currency) == (Decimal("0.5"), None, 100, None)
    with pytest.raises(MalformedAnswer, match="remains"):
        parse_status("7", {"status": "Pending", "remains": "lots"})


def test_multi_status_keeps_per_order_errors_and_notices_missing_orders():
    data, raw = answer({"1": {"status": "Completed", "remains": "0"}, "10": {"error": "Incorrect order ID"}})
    result = parse_multi_status(["1", "10", "11"], data, raw)
    assert result["1"].status is UpstreamOrderStatus.COMPLETED  # type: ignore[union-attr]
    assert result["10"] == ItemError("10", "Incorrect order ID")
    assert result["11"] == ItemError("11", "missing from the provider's answer")
    assert json.loads(result["10"].raw) == {"error": "Incorrect order ID"}


def test_refill_single_and_multi():
    assert parse_refill("5", {"refill": "1"}).refill_id == "1"
    with pytest.raises(ProviderRefused, match="Refill is disabled"):
        parse_refill("5", {"refill": {"error": "Refill is disabled"}})
    result = parse_multi_refill(
        ["1", "2", "3"], [{"order": 1, "refill": 1}, {"order": 2, "refill": {"error": "Incorrect order ID"}}]
    )
    assert result["1"].refill_id == "1"  # type: ignore[union-attr]
    assert result["2"] == ItemError("2", "Incorrect order ID")
    assert isinstance(result["3"], ItemError)


def test_refill_status_single_and_multi():
    assert parse_refill_status("1", {"status": "Completed"}).status is UpstreamRefillStatus.COMPLETED
    result = parse_multi_refill_status(
        ["1", "2"], [{"refill": 1, "status": "Rejected"}, {"refill": "2", "status": {"error": "Incorrect refill ID"}}]
    )
    assert result["1"].status is UpstreamRefillStatus.REJECTED  # type: ignore[union-attr]
    assert result["2"] == ItemError("2", "Incorrect refill ID")
    with pytest.raises(MalformedAnswer):
        parse_multi_refill_status(["1"], {"1": "Completed"})


def test_cancel_answers():
    result = parse_cancel(
        ["9", "2", "3"],
        [{"order": 9, "cancel": {"error": "Incorrect order ID"}}, {"order": 2, "cancel": 1}, {"order": 3, "cancel": 0}],
    )
    assert result["9"] == ItemError("9", "Incorrect order ID")
    assert result["2"].order_id == "2" and not isinstance(result["2"], ItemError)
    assert result["3"] == ItemError("3", "not canceled")


def test_balance_as_string_or_number():
    assert parse_balance({"balance": "100.84292", "currency": "usd"}).amount == Decimal("100.84292")
    assert parse_balance({"balance": "100.84292", "currency": "usd"}).currency == "USD"
    assert parse_balance({"balance": 0}).amount == Decimal(0)
    with pytest.raises(MalformedAnswer, match="balance"):
        parse_balance({"funds": "1"})


# -- what we send ------------------------------------------------------------------------------------------------


def test_order_requests_carry_the_fields_of_their_service_type():
    assert DefaultOrder(1, "https://x.example/p/1", 1000).fields() == {
        "service": "1",
        "link": "https://x.example/p/1",
        "quantity": "1000",
    }
    assert DefaultOrder("7", "https://x.example/", 100, runs=5, interval=30).fields()["runs"] == "5"
    assert PackageOrder(4, "https://x.example/").fields() == {"service": "4", "link": "https://x.example/"}
    comments = CustomCommentsOrder(3, "https://x.example/", ("Great!", "  So   nice ")).fields()
    assert comments["comments"] == "Great!\nSo nice"
    subscription = SubscriptionOrder(5, "lena.schmidt", 100, 200, posts=10, delay=5, expiry=date(2026, 12, 31))
    assert subscription.fields() == {
        "service": "5",
        "username": "lena.schmidt",
        "min": "100",
        "max": "200",
        "delay": "5",
        "posts": "10",
        "expiry": "31/12/2026",
    }
    assert PollOrder(6, "https://x.example/", 100, 2).fields()["answer_number"] == "2"


@pytest.mark.parametrize(
    "order",
    [
        DefaultOrder(1, "https://x.example/", 0),
        DefaultOrder(1, "has space", 10),
        DefaultOrder(1, "https://x.example/", 10, runs=3),
        DefaultOrder("1,2", "https://x.example/", 10),
        CustomCommentsOrder(3, "https://x.example/", ()),
        CustomCommentsOrder(3, "https://x.example/", ("ok", " ")),
        SubscriptionOrder(5, "lena", 300, 200),
        PollOrder(6, "https://x.example/", 100, 0),
    ],
)
def test_invalid_orders_are_refused_before_sending(order):
    with pytest.raises(ValueError, match=r"."):
        order.fields()


# -- HTTP outcomes (no network: httpx's mock transport) ----------------------------------------------------------


def client_answering(handler) -> SmmV2Client:
    return SmmV2Client("https://panel.example/api/v2", KEY, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(500, json={"error": "Internal"}), OutcomeUnknown),
        (httpx.Response(503, text="<html>down</html>"), OutcomeUnknown),
        (httpx.Response(408, text=""), OutcomeUnknown),
        (httpx.Response(200, text="<html>maintenance</html>"), MalformedAnswer),
        (httpx.Response(429, text="slow down"), NotSent),
        (httpx.Response(302, headers={"location": "https://panel.example/login"}), ProviderRefused),
        (httpx.Response(400, json={"error": "Incorrect request"}), ProviderRefused),
        (httpx.Response(403, json={"error": "Low balance"}), InsufficientFunds),
        (httpx.Response(404, text="not here"), ProviderRefused),
        (httpx.Response(200, json={"error": "Incorrect service ID"}), ProviderRefused),
    ],
)
async def test_http_outcomes_map_to_what_dispatch_may_do(response, error):
    async with client_answering(lambda request: response) as client:
        with pytest.raises(error) as caught:
            await client.add(DefaultOrder(1, "https://x.example/", 100))
    assert type(caught.value) is error
    assert caught.value.http_status == response.status_code


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), NotSent),
        (httpx.ConnectTimeout("timed out"), NotSent),
        (httpx.ReadTimeout("timed out"), OutcomeUnknown),
        (httpx.WriteTimeout("timed out"), OutcomeUnknown),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), OutcomeUnknown),
        (httpx.ReadError("Connection reset by peer"), OutcomeUnknown),
    ],
)
async def test_transport_failures_are_not_sent_only_when_provably_unsent(failure, error):
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    async with client_answering(fail) as client:
        with pytest.raises(error) as caught:
            await client.add(DefaultOrder(1, "https://x.example/", 100))
    assert type(caught.value) is error


async def test_the_request_is_a_form_post_with_key_and_action():
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"order": 1})

    async with client_answering(record) as client:
        await client.add(DefaultOrder(1, "https://x.example/p/1", 100, runs=2, interval=10))
    (request,) = seen
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {
        "key": KEY,
        "action": "add",
        "service": "1",
        "link": "https://x.example/p/1",
        "quantity": "100",
        "runs": "2",
        "interval": "10",
    }


async def test_the_key_never_appears_in_errors_or_repr_even_when_the_panel_echoes_it():
    echo = httpx.Response(200, json={"error": f"Invalid API key {KEY}"})
    async with client_answering(lambda request: echo) as client:
        with pytest.raises(ProviderRefused) as caught:
            await client.balance()
        assert KEY not in repr(client)
    assert KEY not in str(caught.value)
    assert KEY not in (caught.value.raw or "")
    assert "***" in caught.value.provider_message


async def test_an_unusable_address_is_not_sent():
    async with SmmV2Client("sandbox://smm", KEY) as client:
        with pytest.raises(NotSent, match="not an http"):
            await client.balance()
