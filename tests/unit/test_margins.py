"""Margins compare our price and the provider's rate on the same basis, in EUR, or say why they cannot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.catalog.models import PriceBasis
from app.fulfillment.margins import Margin, NotComparable, margin


def compare(price: str, basis: PriceBasis, rate: str, upstream_type: str = "Default", **kwargs) -> object:
    return margin(
        price=Decimal(price),
        basis=basis,
        currency=kwargs.get("currency", "EUR"),
        upstream_rate=Decimal(rate),
        upstream_type=upstream_type,
        eur_per_unit=Decimal(kwargs.get("eur_per_unit", "0.9")),
    )


def test_a_price_per_1000_against_a_usd_rate_per_1000_converts_the_rate():
    result = compare("2.5000", PriceBasis.PER_1000, "1.0000")
    assert result == Margin(price=Decimal("2.5000"), cost=Decimal("0.90000"), basis=PriceBasis.PER_1000)
    assert result.share == Decimal(64)


def test_a_package_price_compares_with_a_package_rate_not_a_rate_per_1000():
    assert isinstance(compare("49.0000", PriceBasis.PER_PACKAGE, "20.0000", "Package"), Margin)
    assert compare("49.0000", PriceBasis.PER_PACKAGE, "0.9000", "Default") == NotComparable(
        "price per package against a rate per 1000"
    )
    assert compare("2.5000", PriceBasis.PER_1000, "20.0000", "Package") == NotComparable(
        "price per 1000 against a rate per package"
    )


def test_a_monthly_price_is_not_compared_with_a_rate():
    assert isinstance(compare("29.0000", PriceBasis.PER_MONTH, "0.9000"), NotComparable)


@pytest.mark.parametrize(("price", "currency"), [("2.5000", "USD"), ("0.0000", "EUR")])
def test_a_foreign_currency_or_a_free_service_has_no_margin(price, currency):
    assert isinstance(compare(price, PriceBasis.PER_1000, "0.9000", currency=currency), NotComparable)


def test_selling_below_cost_shows_a_negative_margin():
    result = compare("0.5000", PriceBasis.PER_1000, "1.0000", eur_per_unit="1")
    assert isinstance(result, Margin)
    assert result.share == Decimal(-100)
