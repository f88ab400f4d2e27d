"""The state machines: every legal pair passes, every other pair raises and names both states."""

from __future__ import annotations

import itertools

import pytest

from app import states
from app.errors import InvalidTransition
from app.fulfillment.queues import QUEUES
from app.i18n import translations
from app.orders.states import (
    ACTIVE_UPSTREAM,
    FINAL_LINE_STATES,
    LINE_STATES,
    LINE_TRANSITIONS,
    ORDER_STATES,
    ORDER_TRANSITIONS,
    PAYMENT_STATES,
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

TABLES = [
    ("order", ORDER_TRANSITIONS, ORDER_STATES),
    ("payment", PAYMENT_TRANSITIONS, PAYMENT_STATES),
    ("line", LINE_TRANSITIONS, LINE_STATES),
]
TABLER_COLOURS = {
    "blue",
    "azure",
    "indigo",
    "purple",
    "pink",
    "red",
    "orange",
    "yellow",
    "lime",
    "green",
    "teal",
    "cyan",
    "secondary",
}

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
        # Both states, as people read them (labels from the state tables).
        assert str(states.label(current)) in str(excinfo.value)
        assert str(states.label(target)) in str(excinfo.value)


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


@pytest.mark.parametrize(("name", "transitions", "table"), TABLES)
def test_every_state_declares_label_badge_queue_and_finality(name, transitions, table):
    enum = type(next(iter(transitions)))
    assert set(table) == set(enum), f"{name}: states without an entry in its table"
    for state, entry in table.items():
        assert entry.label and translations("de").gettext(entry.label) != entry.label, f"{name}:{state} label"
        assert entry.badge in TABLER_COLOURS, f"{name}:{state} badge {entry.badge!r}"
        # A state is final exactly when its transition map lets it go nowhere.
        assert entry.final == (not transitions[state]), f"{name}:{state} finality"


def test_every_open_line_state_is_worked_from_a_board_queue():
    queue_keys = {queue.key for queue in QUEUES}
    for state, entry in LINE_STATES.items():
        if entry.final or state == LineStatus.AWAITING_PAYMENT:
            assert entry.queue is None, state
        else:
            assert entry.queue in queue_keys, f"{state} has no board queue"
    assert all(queue.states for queue in QUEUES), "a queue no state belongs to"


def test_states_at_the_provider_are_delivering_or_awaiting_a_decision():
    for state in ACTIVE_UPSTREAM:
        assert LINE_STATES[state].queue in {"dispatching", "in_progress", "needs_review"}


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
