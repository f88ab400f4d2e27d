"""State machines in one shape: each state's label, badge, board queue and finality, declared beside its enum.

Every screen (badges, filters, the board), every index over "live" states and every test reads these tables,
so a new state is one entry in one table. ``check_transition`` refuses any move its map does not list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from app.errors import InvalidTransition
from app.i18n import Message

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class StateInfo:
    """How one state reads and behaves. ``label`` is an English catalog id (``N_``)."""

    label: str
    badge: str  # a Tabler colour name: green, red, azure, ...
    final: bool
    queue: str | None  # the fulfillment board queue it is worked from (None: not on the board)


StateTable = Mapping[S, StateInfo]

_TABLES: list[Mapping[Any, StateInfo]] = []


def register(table: Mapping[S, StateInfo]) -> Mapping[S, StateInfo]:
    """Record a machine's table so that badges for plain state strings (event rows) find it."""
    _TABLES.append(table)
    return table


def info(state: Any) -> StateInfo | None:
    """The entry of an enum member in its own machine's table; a plain string matches the first machine with it."""
    for table in _TABLES:
        if isinstance(state, StrEnum) and type(next(iter(table))) is not type(state):
            continue
        if state in table:
            return table[state]
    return None


def label(state: Any) -> Message:
    """The state's translatable label (an unknown value reads as itself, underscores as spaces)."""
    entry = info(state)
    return Message(entry.label if entry else str(getattr(state, "value", state)).replace("_", " "))


def finals(table: Mapping[S, StateInfo]) -> frozenset[S]:
    return frozenset(state for state, entry in table.items() if entry.final)


def sql_in(states: Iterable[StrEnum]) -> str:
    """``'a', 'b'`` for a partial index predicate (sorted, so the DDL is stable)."""
    return ", ".join(f"'{state.value}'" for state in sorted(states))


def check_transition(subject: str | Message, transitions: Mapping[S, frozenset[S]], current: S, target: S) -> None:
    """Raise InvalidTransition unless ``current -> target`` is in the map."""
    if target not in transitions[current]:
        raise InvalidTransition(subject, label(current), label(target))
