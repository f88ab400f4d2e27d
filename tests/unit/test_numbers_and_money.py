from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.catalog.models import ServiceKind
from app.invoicing.tax import TaxDecision, TaxTreatment
from app.money import minor_units, to_cents
from app.orders.numbers import format_order_number, looks_like_order_number, order_number_year
from app.orders.pricing import billed_units, line_net, order_totals


def test_order_number_has_year_and_six_digit_sequence():
    assert format_order_number(2026, 123) == "SMP-2026-000123"
    assert format_order_number(2027, 1234567) == "SMP-2027-1234567"


def test_order_number_rejects_non_positive_sequence():
    with pytest.raises(ValueError, match="start at 1"):
        format_order_number(2026, 0)


def test_order_number_year_is_berlin_year_at_new_year():
    # 23:30 UTC on 31 Dec is already 00:30 on 1 Jan in Berlin.
    assert order_number_year(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == 2027


@pytest.mark.parametrize(
    ("text", "ok"),
    [("SMP-2026-000123", True), ("smp-2026-000123", True), ("SMP-26-000123", False), ("SMP-2026-12", False)],
)
def test_order_number_recognised_in_search(text, ok):
    assert looks_like_order_number(text) is ok


def test_rounding_is_half_up_to_cents():
    assert to_cents(Decimal("0.005")) == Decimal("0.01")
    assert to_cents(Decimal("2.344999")) == Decimal("2.34")
    assert minor_units(Decimal("12.345")) == 1235


def test_price_per_1000_is_prorated_and_rounded_per_line():
    assert line_net(ServiceKind.DEFAULT, Decimal("2.9000"), 1500) == Decimal("4.35")
    assert line_net(ServiceKind.DEFAULT, Decimal("0.3900"), 1234) == Decimal("0.48")  # 0.48126


def test_drip_feed_bills_every_run():
    assert billed_units(ServiceKind.DRIP_FEED, 1000, 5) == 5000
    assert line_net(ServiceKind.DRIP_FEED, Decimal("0.1900"), 1000, 5) == Decimal("0.95")


def test_package_and_subscription_prices_are_per_unit():
    assert line_net(ServiceKind.PACKAGE, Decimal("49.0000"), 2) == Decimal("98.00")
    assert line_net(ServiceKind.SUBSCRIPTION, Decimal("29.0000"), 1) == Decimal("29.00")


def test_order_totals_tax_on_summed_net():
    totals = order_totals([Decimal("4.35"), Decimal("0.48")], TaxDecision.domestic())
    assert (totals.net, totals.tax, totals.gross) == (Decimal("4.83"), Decimal("0.92"), Decimal("5.75"))


def test_reverse_charge_has_no_tax():
    totals = order_totals([Decimal("100.00")], TaxDecision(TaxTreatment.REVERSE_CHARGE, Decimal("0")))
    assert totals.tax == Decimal("0.00") and totals.gross == Decimal("100.00")
