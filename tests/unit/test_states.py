"""The state machines: every legal pair passes, every other pair raises and names both states."""

from __future__ import annotations

import itertools

import pytest

from app.errors import InvalidTransition
from app.orders.states import (
    FINAL_LINE_STATES,
    LINE_TRANSITIONS,
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    LineStatus,
    OrderStatus,
    PaymentStatus,
    check_transition,
    rolled_up_order_status,
)

MACHINES = [
    ("order", ORDER_TRANSITIONS, OrderStatus),
    ("payment", PAYMENT_TRANSITIONS, PaymentStatus),
    ("line", LINE_TRANSITIONS, LineStatus),
]

ALL_PAIRS = [
    pytest.param(transitions, current, target, id=f"{name}:{current}->{target}")
    for name, transitions, states in MACHINES
    for current, target in itertools.product(states, states)
]


@pytest.mark.parametrize(("transitions", "current", "target"), ALL_PAIRS)
def test_transition_is_allowed_exactly_when_listed_in_the_map(transitions, current, target):
    if target in transitions[current]:
        check_transition("Thing", transitions, current, target)
    else:
        with pytest.raises(InvalidTransition) as excinfo:
            check_transition("Thing", transitions, current, target)
        assert str(current) in str(excinfo.value)
        assert str(target) in str(excinfo.value)


@pytest.mark.parametrize(("name", "transitions", "states"), MACHINES)
def test_every_state_has_an_entry_in_its_map(name, transitions, states):
    assert set(transitions) == set(states), name
    for targets in transitions.values():
        assert targets <= set(states)


def test_order_happy_path_is_legal():
    path = [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.IN_FULFILLMENT, OrderStatus.COMPLETED]
    for current, target in itertools.pairwise(path):
        check_transition("Order", ORDER_TRANSITIONS, current, target)


def test_unknown_dispatch_is_never_resent_without_review_or_staff():
    # From dispatch_unknown the only ways back to the queue are explicit (staff: "not placed").
    assert LineStatus.DISPATCHING not in LINE_TRANSITIONS[LineStatus.DISPATCH_UNKNOWN]
    assert LineStatus.DISPATCHING not in LINE_TRANSITIONS[LineStatus.NEEDS_REVIEW]


def test_final_states_have_no_way_out():
    assert {LineStatus.COMPLETED, LineStatus.PARTIAL, LineStatus.CANCELED} == FINAL_LINE_STATES


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([LineStatus.COMPLETED, LineStatus.COMPLETED], OrderStatus.COMPLETED),
        ([LineStatus.CANCELED, LineStatus.CANCELED], OrderStatus.CANCELED),
        ([LineStatus.COMPLETED, LineStatus.CANCELED], OrderStatus.PARTIALLY_COMPLETED),
        ([LineStatus.PARTIAL], OrderStatus.PARTIALLY_COMPLETED),
        ([LineStatus.COMPLETED, LineStatus.IN_PROGRESS], None),
        ([], None),
    ],
)
def test_order_status_rolls_up_from_final_lines(lines, expected):
    assert rolled_up_order_status(lines) == expected
