"""Net, tax and gross in cents, for every rate in the table.

What is guaranteed (for 0 <= rate < 100 and amounts in cents):
- ``net + tax == gross`` exactly, and ``0 <= tax <= gross``, in both directions;
- from net: ``split_gross(net_tax_gross(net).gross)`` gives back the same net, tax and gross;
- from gross: a gross that some net produces splits into that net; any other gross (with rate > 0 a few cents are
  never produced) splits into a net whose gross is one cent away, and no net produces it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.invoicing.tax import TaxDecision, TaxTreatment, net_tax_gross, split_gross
from app.invoicing.vat_rates import EU_STANDARD_RATES

CENT = Decimal("0.01")
RATES = sorted({entry.rate for entry in EU_STANDARD_RATES} | {Decimal("0.00"), Decimal("7.00")})

cents = st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n).scaleb(-2))  # 0.00 .. 10,000,000.00
rates = st.sampled_from(RATES)

# no example database: nothing is written into the working tree
properties = settings(database=None, max_examples=300, deadline=None)


@properties
@given(net=cents, rate=rates)
def test_net_plus_tax_is_gross_from_a_net_price(net, rate):
    amounts = net_tax_gross(net, rate)
    assert amounts.net == net
    assert amounts.net + amounts.tax == amounts.gross
    assert amounts.tax >= 0
    assert amounts.tax == TaxDecision(TaxTreatment.DOMESTIC, rate).tax_on(net)  # the order total's rounding


@properties
@given(gross=cents, rate=rates)
def test_net_plus_tax_is_gross_from_a_gross_price(gross, rate):
    amounts = split_gross(gross, rate)
    assert amounts.gross == gross
    assert amounts.net + amounts.tax == amounts.gross
    assert 0 <= amounts.tax <= amounts.gross
    assert amounts.net.as_tuple().exponent == -2


@properties
@given(net=cents, rate=rates)
def test_splitting_the_gross_of_a_net_price_gives_the_net_back(net, rate):
    forward = net_tax_gross(net, rate)
    assert split_gross(forward.gross, rate) == forward


@properties
@given(gross=cents, rate=rates)
def test_a_gross_no_net_produces_is_one_cent_off_and_every_other_round_trips(gross, rate):
    net = split_gross(gross, rate).net
    back = net_tax_gross(net, rate).gross
    assert abs(back - gross) <= CENT
    if back != gross:
        # gross grows strictly with net, so the neighbours bracketing it prove no net gives exactly this gross
        below = net_tax_gross(net - CENT, rate).gross if net > 0 else Decimal(-1)
        above = net_tax_gross(net + CENT, rate).gross
        assert below < gross < above


@pytest.mark.parametrize(
    ("net", "rate", "tax", "gross"),
    [
        (Decimal("0.02"), Decimal("19.00"), Decimal("0.00"), Decimal("0.02")),  # 0.0038 rounds down
        (Decimal("0.50"), Decimal("19.00"), Decimal("0.10"), Decimal("0.60")),  # 0.095: half rounds up
        (Decimal("0.10"), Decimal("25.50"), Decimal("0.03"), Decimal("0.13")),  # 0.0255
        (Decimal("4.83"), Decimal("19.00"), Decimal("0.92"), Decimal("5.75")),
        (Decimal("100"), Decimal("0.00"), Decimal("0.00"), Decimal("100.00")),
        (Decimal("1.005"), Decimal("19.00"), Decimal("0.19"), Decimal("1.20")),  # net is rounded to cents first
    ],
)
def test_net_tax_gross_rounds_half_up_to_cents(net, rate, tax, gross):
    amounts = net_tax_gross(net, rate)
    assert (amounts.tax, amounts.gross) == (tax, gross)


@pytest.mark.parametrize(
    ("gross", "rate", "net", "tax"),
    [
        (Decimal("119.00"), Decimal("19.00"), Decimal("100.00"), Decimal("19.00")),
        (Decimal("9.99"), Decimal("19.00"), Decimal("8.39"), Decimal("1.60")),
        (Decimal("0.01"), Decimal("27.00"), Decimal("0.01"), Decimal("0.00")),
        (Decimal("125.50"), Decimal("25.50"), Decimal("100.00"), Decimal("25.50")),
    ],
)
def test_split_gross_rounds_the_net_half_up_and_leaves_the_rest_as_tax(gross, rate, net, tax):
    amounts = split_gross(gross, rate)
    assert (amounts.net, amounts.tax) == (net, tax)


def test_a_gross_price_no_net_produces():
    # at 19 % the net 0.07 gives 0.08 gross and 0.08 gives 0.10: no net gives 0.09
    assert [net_tax_gross(Decimal(n).scaleb(-2), Decimal(19)).gross for n in (7, 8)] == [
        Decimal("0.08"),
        Decimal("0.10"),
    ]
    amounts = split_gross(Decimal("0.09"), Decimal(19))
    assert amounts.net + amounts.tax == Decimal("0.09")


@pytest.mark.parametrize("rate", [Decimal(-1), Decimal("NaN"), Decimal("Infinity")])
def test_a_negative_or_non_finite_rate_is_refused(rate):
    with pytest.raises(ValueError, match="VAT rate"):
        net_tax_gross(Decimal(1), rate)
    with pytest.raises(ValueError, match="VAT rate"):
        split_gross(Decimal(1), rate)
