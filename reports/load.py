"""PostgreSQL straight into Polars: ``COPY (query) TO STDOUT (FORMAT csv)`` read with a fixed schema.

Row-by-row fetching is ten times slower and holds every row as Python objects; CSV from COPY is parsed by
Polars' native reader, and ``NUMERIC`` arrives as an exact ``Decimal`` column, never a float.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import polars as pl

from app.db.urls import conninfo

Schema = Mapping[str, pl.DataType | type[pl.DataType]]


async def copy_frame(database_url: str, query: str, args: Sequence[Any], schema: Schema) -> pl.DataFrame:
    """The rows of ``query`` (with ``$n`` parameters) as a DataFrame whose columns are ``schema``, in order."""
    buffer = io.BytesIO()
    connection = await asyncpg.connect(conninfo(database_url))
    try:
        await connection.copy_from_query(query, *args, output=buffer, format="csv")
    finally:
        await connection.close()
    if not buffer.getbuffer().nbytes:
        return pl.DataFrame(schema=dict(schema))
    return pl.read_csv(buffer.getvalue(), has_header=False, schema=dict(schema))
