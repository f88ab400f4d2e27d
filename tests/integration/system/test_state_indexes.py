"""Partial indexes over "live" states match the state sets the code uses (a migration copies the list once)."""

from __future__ import annotations

import re

import psycopg
import pytest

from app.db.urls import conninfo
from app.fulfillment.models import OPEN_REFILL_STATES
from app.orders.states import ACTIVE_UPSTREAM

INDEXES = [
    ("uq_order_line_active_upstream", ACTIVE_UPSTREAM),
    ("uq_refill_request_open_per_line", OPEN_REFILL_STATES),
]


@pytest.mark.parametrize(("index", "states"), INDEXES, ids=[name for name, _states in INDEXES])
def test_the_live_index_covers_exactly_the_states_of_its_constant(database_url, index, states):
    with psycopg.connect(conninfo(database_url)) as conn:
        row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (index,)).fetchone()
    assert row is not None, f"{index} is missing"
    predicate = row[0].split(" WHERE ", 1)[1]
    assert set(re.findall(r"'([a-z_]+)'", predicate)) == {state.value for state in states}
