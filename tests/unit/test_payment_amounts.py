"""Amounts cross to the payment processor exactly: cents as integers, never rounded on the way."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.payments.gateway import GatewayError, currency_exponent, from_minor_units, to_minor_units


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("12.34"), "EUR", 1234),
        (Decimal("12.340000"), "EUR", 1234),
        (Decimal("0.01"), "eur", 1),
        (Decimal("0"), "EUR", 0),
        (Decimal("1E+3"), "EUR", 100000),
        (Decimal("1500"), "JPY", 1500),
        (Decimal("1.234"), "KWD", 1234),
        (Decimal("-2.50"), "EUR", -250),
    ],
)
def test_amount_converts_to_minor_units_exactly(amount, currency, minor):
    assert to_minor_units(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"), [(Decimal("12.345"), "EUR"), (Decimal("0.001"), "EUR"), (Decimal("10.5"), "JPY")]
)
def test_sub_cent_amount_is_refused_not_rounded(amount, currency):
    with pytest.raises(ValueError, match="smallest unit"):
        to_minor_units(amount, currency)


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_non_amounts_are_refused(amount):
    with pytest.raises(ValueError, match="not an amount"):
        to_minor_units(amount, "EUR")


def test_float_is_never_money():
    with pytest.raises(TypeError, match="Decimal"):
        to_minor_units(12.34, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["EURO", "", "E1R"])
def test_unknown_currency_code_is_refused(currency):
    with pytest.raises(ValueError, match="ISO 4217"):
        currency_exponent(currency)


def test_minor_units_convert_back_with_the_currencys_decimals():
    assert from_minor_units(1234, "EUR") == Decimal("12.34")
    assert str(from_minor_units(1200, "eur")) == "12.00"
    assert str(from_minor_units(5, "EUR")) == "0.05"
    assert str(from_minor_units(1500, "JPY")) == "1500"
    assert str(from_minor_units(1234, "KWD")) == "1.234"


def test_minor_units_must_be_integers():
    with pytest.raises(TypeError):
        from_minor_units(True, "EUR")
    with pytest.raises(TypeError):
        from_minor_units(12.0, "EUR")  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["EUR", "USD", "JPY", "KWD"]))
def test_minor_units_round_trip(minor, currency):
    assert to_minor_units(from_minor_units(minor, currency), currency) == minor


def test_gateway_error_says_whether_to_retry():
    error = GatewayError("Stripe could not be reached", retryable=True, code=None, status=None)
    assert error.retryable is True
    assert error.code is None
    assert str(error) == "Stripe could not be reached"
    assert GatewayError("refused").retryable is False
