"""The fake Stripe reads Stripe's form encoding, signs like Stripe, and bills periods like Stripe."""

from __future__ import annotations

from datetime import UTC, datetime

import stripe

from app.sandbox.stripe_billing import add_interval
from app.sandbox.stripe_wire import ApiError, decode_form, new_id, public, signature_header


def test_form_encoding_becomes_nested_dicts_and_lists():
    body = (
        "mode=payment&line_items[0][price_data][unit_amount]=1234&line_items[0][quantity]=2"
        "&line_items[1][price_data][unit_amount]=5&line_items[1][quantity]=1"
        "&metadata[order_id]=7&metadata[0]=zero&expand[]=line_items&customer_email="
    )
    assert decode_form(body) == {
        "mode": "payment",
        "line_items": [
            {"price_data": {"unit_amount": "1234"}, "quantity": "2"},
            {"price_data": {"unit_amount": "5"}, "quantity": "1"},
        ],
        "metadata": {"order_id": "7", "0": "zero"},
        "expand": ["line_items"],
        "customer_email": "",
    }


def test_form_encoding_with_more_than_ten_items_keeps_their_order():
    body = "&".join(f"line_items[{index}][quantity]={index}" for index in range(12))
    assert [item["quantity"] for item in decode_form(body)["line_items"]] == [str(index) for index in range(12)]


def test_the_sdks_own_encoding_is_understood():
    from stripe._encode import _api_encode  # the SDK's encoder, as used on the wire

    params = {"line_items": [{"price_data": {"currency": "eur", "unit_amount": 1234}}], "metadata": {"a": "b"}}
    body = "&".join(f"{key}={value}" for key, value in _api_encode(params))
    assert decode_form(body) == {
        "line_items": [{"price_data": {"currency": "eur", "unit_amount": "1234"}}],
        "metadata": {"a": "b"},
    }


def test_signature_header_is_stripes():
    body = b'{"id":"evt_1","object":"event"}'
    assert signature_header("whsec_x", body, 1_700_000_000) == stripe.WebhookSignature.generate_signature_header(
        body.decode(), "whsec_x", 1_700_000_000
    )


def test_errors_have_stripes_shape():
    error = ApiError(404, "No such customer: 'cus_1'", code="resource_missing", param="customer")
    body = error.body()["error"]
    assert (body["type"], body["code"], body["param"]) == ("invalid_request_error", "resource_missing", "customer")
    assert body["message"] == "No such customer: 'cus_1'"


def test_ids_carry_stripes_prefixes():
    assert new_id("cs").startswith("cs_test_")
    assert new_id("pi").startswith("pi_")
    assert new_id("pi") != new_id("pi")


def test_public_view_drops_private_bookkeeping():
    assert public({"id": "x", "_private": 1, "items": [{"_description": "d", "a": 1}]}) == {
        "id": "x",
        "items": [{"a": 1}],
    }


def _at(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 12, tzinfo=UTC).timestamp())


def test_monthly_periods_keep_the_anchor_day():
    anchor = _at(2026, 1, 31)
    assert add_interval(anchor, "month", 1) == _at(2026, 2, 28)
    assert add_interval(anchor, "month", 2) == _at(2026, 3, 31)
    assert add_interval(anchor, "year", 1) == _at(2027, 1, 31)
    assert add_interval(anchor, "week", 1) == _at(2026, 2, 7)
