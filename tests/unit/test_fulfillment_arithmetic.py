"""The undelivered share a partial line gets back, the dispatch backoff and the polling schedule."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.fulfillment.commands import poll_interval
from app.fulfillment.queueing import BACKOFF_CAP_SECONDS, dispatch_backoff
from app.payments.refund_amounts import remaining_share_amount

CENTS = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("100000.00"), places=2)


def test_the_undelivered_share_of_a_partial_line_examples():
    zero = Decimal("0.00")
    assert remaining_share_amount(Decimal("11.90"), 1000, 157, zero) == Decimal("1.87")  # 1.8683
    assert remaining_share_amount(Decimal("0.20"), 8, 1, zero) == Decimal("0.03")  # 0.025 half-up
    assert remaining_share_amount(Decimal("5.00"), 100, 0, zero) == zero
    assert remaining_share_amount(Decimal("5.00"), 100, 100, zero) == Decimal("5.00")
    assert remaining_share_amount(Decimal("5.00"), 100, 250, zero) == Decimal("5.00")  # clamped to the line
    assert remaining_share_amount(Decimal("5.00"), 100, 40, Decimal("1.50")) == Decimal("0.50")  # less refunded


@given(quantity=st.integers(1, 1_000_000), data=st.data(), share=CENTS)
def test_the_undelivered_share_is_exact_to_the_cent_and_never_more_than_paid(quantity, data, share):
    remains = data.draw(st.integers(0, quantity))
    refund = remaining_share_amount(share, quantity, remains, Decimal("0.00"))
    exact = Decimal(remains) * share / Decimal(quantity)
    assert refund.as_tuple().exponent == -2
    assert abs(refund - exact) <= Decimal("0.005")
    assert Decimal(0) <= refund <= share


def test_backoff_doubles_from_ten_seconds_up_to_half_an_hour_with_jitter():
    low, high = random.Random(0), random.Random(0)
    low.random = lambda: 0.0  # type: ignore[method-assign]
    high.random = lambda: 0.999999  # type: ignore[method-assign]
    assert [dispatch_backoff(n, low).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert [round(dispatch_backoff(n, high).total_seconds()) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert dispatch_backoff(50, high).total_seconds() <= BACKOFF_CAP_SECONDS
    assert dispatch_backoff(50, low).total_seconds() == BACKOFF_CAP_SECONDS / 2


@given(attempt=st.integers(1, 200), seed=st.integers(0, 10**6))
def test_backoff_stays_between_half_and_all_of_its_step(attempt, seed):
    step = min(BACKOFF_CAP_SECONDS, 10.0 * 2 ** min(attempt - 1, 32))
    wait = dispatch_backoff(attempt, random.Random(seed)).total_seconds()
    assert step / 2 <= wait <= step


def test_polling_backs_off_as_orders_age():
    ages = [timedelta(minutes=1), timedelta(minutes=30), timedelta(hours=3), timedelta(hours=12), timedelta(days=3)]
    waits = [poll_interval(age) for age in ages]
    assert waits == sorted(waits) and waits[0] == timedelta(seconds=20) and waits[-1] == timedelta(hours=1)


def test_the_demo_sandbox_offers_every_seeded_provider_service():
    from app.demo.catalog import SERVICES
    from app.demo.runner import demo_sandbox_services
    from app.demo.seed import upstream_id

    offered = {str(service.id): service for service in demo_sandbox_services()}
    seeded = {upstream_id(p): demo for p, demo in enumerate(SERVICES) if demo.provider_rate is not None}
    assert offered.keys() == seeded.keys()
    assert all(offered[key].min == demo.min_quantity for key, demo in seeded.items())
