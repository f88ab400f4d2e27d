"""Which decisions a board queue offers on its ticked lines: those of the bulk set that accept some of its states."""

from __future__ import annotations

from app.fulfillment.decisions import LineAction, bulk_actions_for
from app.fulfillment.queues import QUEUES, STUCK

ON_TICKED_LINES = {
    "queued": [LineAction.HOLD],
    "dispatching": [],
    "needs_review": [],  # resolved one at a time, after a look at the provider's panel
    "on_hold": [LineAction.RESUME, LineAction.CANCEL],
    "failed": [LineAction.RETRY, LineAction.CANCEL],
    "in_progress": [],
}


def test_each_queue_offers_the_decisions_its_lines_can_take_together() -> None:
    assert {queue.key: bulk_actions_for(queue.states) for queue in QUEUES} == ON_TICKED_LINES


def test_the_stuck_queue_has_no_states_of_its_own_and_so_no_decisions_on_ticked_lines() -> None:
    assert bulk_actions_for(STUCK.states) == []
