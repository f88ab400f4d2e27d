"""Refund arithmetic: line gross shares, "full line" and "remaining share" amounts, in cents, never too much."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.money import to_cents
from app.payments.refund_amounts import (
    ZERO,
    full_line_amount,
    line_gross_shares,
    refundable_for_line,
    remaining_share_amount,
)

D = Decimal
properties = settings(database=None, max_examples=300, deadline=None)

cents = st.integers(min_value=0, max_value=10**7).map(lambda n: Decimal(n).scaleb(-2))
rates = st.sampled_from([D("0.00"), D("7.00"), D("19.00"), D("21.00"), D("27.00")])


def order_of(nets: list[Decimal], rate: Decimal) -> tuple[Decimal, Decimal]:
    """Tax and gross as the order computes them: VAT on the summed net, rounded half-up."""
    net = sum(nets, ZERO)
    tax = to_cents(net * rate / 100)
    return tax, net + tax


def test_shares_split_the_tax_by_net_and_add_up_to_the_gross():
    shares = line_gross_shares([D("10.00"), D("20.00")], D("5.70"), D("35.70"))
    assert shares == [D("11.90"), D("23.80")]


def test_the_last_line_takes_the_rounding_remainder():
    # 1/3 of 0.10 each: 0.03, 0.03 (running total rounds to 0.07), then the last line gets 0.03 + remainder
    shares = line_gross_shares([D("1.00"), D("1.00"), D("1.00")], D("0.10"), D("3.10"))
    assert sum(shares) == D("3.10")
    assert [share - D("1.00") for share in shares] == [D("0.03"), D("0.04"), D("0.03")]


def test_a_half_cent_on_every_line_never_makes_a_share_negative():
    shares = line_gross_shares([D("1.00"), D("1.00"), D("0.00")], D("0.01"), D("2.01"))
    assert sum(shares) == D("2.01") and all(share >= 0 for share in shares)
    assert shares[2] == ZERO


def test_full_line_gives_what_is_left_of_the_share():
    assert full_line_amount(D("23.80"), ZERO) == D("23.80")
    assert full_line_amount(D("23.80"), D("10.00")) == D("13.80")
    assert full_line_amount(D("23.80"), D("23.80")) == ZERO


def test_remaining_share_is_the_undelivered_part_less_what_was_refunded():
    assert remaining_share_amount(D("11.90"), 1000, 250, ZERO) == D("2.98")  # 2.975 rounds half-up
    assert remaining_share_amount(D("11.90"), 1000, 250, D("2.98")) == ZERO  # asked twice: nothing more
    assert remaining_share_amount(D("11.90"), 1000, 500, D("2.98")) == D("2.97")  # more remains since
    assert remaining_share_amount(D("11.90"), 1000, None, ZERO) == ZERO
    assert remaining_share_amount(D("11.90"), 1000, 0, ZERO) == ZERO
    assert remaining_share_amount(D("11.90"), 1000, 5000, ZERO) == D("11.90")  # never more than the share


def test_refundable_is_limited_by_the_line_and_by_the_payment():
    assert refundable_for_line(D("23.80"), ZERO, D("35.70"), ZERO) == D("23.80")
    assert refundable_for_line(D("23.80"), ZERO, D("35.70"), D("20.00")) == D("15.70")
    assert refundable_for_line(D("23.80"), D("30.00"), D("35.70"), ZERO) == ZERO


@properties
@given(nets=st.lists(cents, min_size=1, max_size=8), rate=rates)
def test_shares_sum_exactly_to_the_order_gross(nets: list[Decimal], rate: Decimal):
    tax, gross = order_of(nets, rate)
    shares = line_gross_shares(nets, tax, gross)
    assert sum(shares, ZERO) == gross
    for net, share in zip(nets, shares, strict=True):
        assert share >= net >= 0
        assert share == share.quantize(D("0.01"))
        exact = net + (tax * net / sum(nets, ZERO) if sum(nets, ZERO) else ZERO)
        assert abs(share - exact) <= D("0.01")


@st.composite
def refund_runs(draw: st.DrawFn) -> tuple[list[Decimal], list[int], Decimal, list[tuple[int, int]]]:
    nets = draw(st.lists(cents, min_size=1, max_size=6))
    quantities = [draw(st.integers(min_value=1, max_value=100_000)) for _ in nets]
    rate = draw(rates)
    steps = draw(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=len(nets) - 1), st.integers(min_value=1, max_value=10**6)),
            max_size=20,
        )
    )
    return nets, quantities, rate, steps


@properties
@given(run=refund_runs())
def test_partial_refunds_of_remains_never_exceed_the_paid_amount(
    run: tuple[list[Decimal], list[int], Decimal, list[tuple[int, int]]],
):
    """Any sequence of "remaining share" refunds (remains 1..N, in any order, repeated), then "full line" on
    every line: no line gets more than its share, and all of it together never more than the order's gross."""
    nets, quantities, rate, steps = run
    tax, gross = order_of(nets, rate)
    shares = line_gross_shares(nets, tax, gross)
    refunded = [ZERO] * len(nets)
    for index, raw_remains in steps:
        remains = 1 + raw_remains % quantities[index]  # 1..N
        amount = remaining_share_amount(shares[index], quantities[index], remains, refunded[index])
        assert ZERO <= amount <= refundable_for_line(shares[index], refunded[index], gross, sum(refunded, ZERO))
        refunded[index] += amount
        assert refunded[index] <= shares[index]
        assert sum(refunded, ZERO) <= gross
    for index in range(len(nets)):
        refunded[index] += full_line_amount(shares[index], refunded[index])
    assert refunded == shares
    assert sum(refunded, ZERO) == gross
