"""One statement for what a hot command changed: its loaded rows' new column values and the pending trail.

The ORM's flush sends one ``UPDATE`` per changed row, each a round trip with its own unit-of-work bookkeeping,
and the trail (``app.audit.trail``) in one more. A command on a hot path (paying an order: the order, its lines
and the payment) calls :func:`write_rows` instead of flushing: every changed column of the given rows, stamped
``updated_at`` as the flush would, and the session's new audit and order-event rows, in one statement, with
any other rows the command writes (its jobs, say) as companions of that statement. The rows' new values then
count as loaded from the database, so no later flush sends them again.
"""

# ruff: noqa: S608 - the SQL is built from the models' table and column names only
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.trail import TRAIL_CTES, empty_trail, take_trail

STAMP = "updated_at"  # stamped on every written row, as Advanced Alchemy's flush listener does

# A row's shape: its mapper and the attributes written, in a fixed order.
_Shape = tuple[Mapper[Any], tuple[str, ...]]


@dataclass(frozen=True)
class Companion:
    """Rows written along with a write: a data-modifying statement (no ``WITH``) that becomes a common table
    expression named ``name``; its parameters' names start with ``name`` so that none collide. What it returns
    (``RETURNING``) only a later companion reads, by that name."""

    name: str
    sql: str
    params: Mapping[str, Any]


def _changed(record: Any) -> dict[str, Any]:
    """The record's column attributes set since it was loaded, with their new values."""
    state = sa.inspect(record)
    columns = state.mapper.column_attrs
    return {key: state.dict[key] for key in state.committed_state if key in columns and key != STAMP}


@lru_cache(maxsize=128)
def _statement(shapes: tuple[_Shape, ...], companions: tuple[tuple[str, str], ...]) -> sa.TextClause:
    """The trail's inserts, one ``UPDATE`` per row and the companions, as common table expressions of one
    statement."""
    ctes = [TRAIL_CTES, *(f"{name} AS ({sql})" for name, sql in companions)]
    params = []
    for index, (mapper, keys) in enumerate(shapes):
        (key_column,) = mapper.primary_key
        table = mapper.local_table
        assert isinstance(table, sa.Table)  # the models map tables
        keys_written = (*keys, STAMP) if STAMP in mapper.column_attrs else keys
        columns = {f"r{index}_{key}": mapper.column_attrs[key].columns[0] for key in keys_written}
        assignments = ", ".join(f"{column.name} = :{name}" for name, column in columns.items())
        ctes.append(f"r{index} AS (UPDATE {table.name} SET {assignments} WHERE {key_column.name} = :r{index}_key)")
        params += [sa.bindparam(name, type_=column.type) for name, column in columns.items()]
        params.append(sa.bindparam(f"r{index}_key", type_=key_column.type))
    return sa.text(f"WITH {', '.join(ctes)} SELECT").bindparams(*params)


async def write_rows(session: AsyncSession, records: Sequence[Any], companions: Sequence[Companion] = ()) -> None:
    """Write the records' changed columns, the session's new trail rows and the companions in one statement (see
    the module)."""
    # Each row once: of two updates of one row in one statement, PostgreSQL applies only one.
    unique = {id(record): record for record in records}.values()
    changes = [(record, _changed(record)) for record in unique]
    changes = [(record, changed) for record, changed in changes if changed]
    shapes = tuple((sa.inspect(record).mapper, tuple(changed)) for record, changed in changes)
    params = take_trail(session.sync_session) or empty_trail()
    now = datetime.now(UTC)
    for index, (record, changed) in enumerate(changes):
        state = sa.inspect(record)
        if STAMP in state.mapper.column_attrs:
            changed[STAMP] = now
        params[f"r{index}_key"] = state.identity[0]
        params.update({f"r{index}_{key}": value for key, value in changed.items()})
    for companion in companions:
        params.update(companion.params)
    await session.execute(_statement(shapes, tuple((each.name, each.sql) for each in companions)), params)
    identity_map = session.sync_session.identity_map
    for record, changed in changes:
        state = sa.inspect(record)
        if state.committed_state.keys() <= changed.keys():
            # What the ORM's flush does to a row it wrote: all of it counts as loaded, and it leaves the session's
            # modified rows (else every later flush would look it over again).
            state._commit_all(state.dict, identity_map)
        else:
            for key, value in changed.items():
                set_committed_value(record, key, value)
