"""PostgreSQL straight into Polars: ``COPY (query) TO STDOUT (FORMAT csv)`` read with a fixed schema.

Row-by-row fetching is ten times slower and holds every row as Python objects; CSV from COPY is parsed by
Polars' native reader, and ``NUMERIC`` arrives as an exact ``Decimal`` column, never a float.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

Schema = Mapping[str, pl.DataType | type[pl.DataType]]


async def copy_frame(session: AsyncSession, query: str, args: Sequence[Any], schema: Schema) -> pl.DataFrame:
    """The rows of ``query`` (with ``$n`` parameters) as a DataFrame whose columns are ``schema``, in order.

    Runs on the session's connection (asyncpg underneath), inside its transaction, without JIT compilation:
    report queries are short enough that compiling them costs more than it saves.
    """
    buffer = io.BytesIO()
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None  # a live connection from the pool
    await driver.execute("SET LOCAL jit = off")
    await driver.copy_from_query(query, *args, output=buffer, format="csv")
    if not buffer.getbuffer().nbytes:
        return pl.DataFrame(schema=dict(schema))
    return pl.read_csv(buffer.getvalue(), has_header=False, schema=dict(schema))
