"""Fulfilment operations per provider: how fast paid lines are sent and finished, how often by hand, how well.

Lines count in the bucket their order was paid in. Percentiles are exact (``percentile_cont`` in PostgreSQL, per
bucket and provider: percentiles do not add up, so the buckets are cut in SQL). Each line's facts are read from
``operations_line`` (one narrow row per line kept by triggers: :mod:`app.analytics.operations_lines`), not joined
together from orders, lines, events and refill requests. Durations are measured from
payment: ``dispatch_minutes_*`` until the provider accepted the line, ``completion_hours_*`` until a completed
line finished. A line is *automated* when no staff member acted on it (no staff event on its timeline).

Columns: ``period`` (unless one bucket), ``provider`` ("manual" for lines staff fulfil by hand), ``lines``,
``completed``, ``partial``, ``canceled``, ``open_issues`` (failed, on hold, unknown dispatch, needs review),
``dispatch_minutes_p50``/``_p90``/``_p99``, ``completion_hours_p50``/``_p90``/``_p99``, ``automated_percent``,
``partial_percent``, ``refill_percent`` (lines with a refill request). Without the ``provider`` column (all lines
together) for the success metrics (``reports/kpis.py``).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import N_, Translate
from reports.load import Schema, copy_frame
from reports.periods import bucket_args, bucket_sql, period_column
from reports.revenue import Selection, percent

MANUAL = N_("manual")
ISSUES = "'failed', 'on_hold', 'dispatch_unknown', 'needs_review'"
COMPLETED = "l.fulfillment_status = 'completed'"
PERCENTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))


def _percentiles(seconds: str, only: str = "TRUE") -> str:
    """All three percentiles of ``seconds`` from one sort (an array), unpacked by :func:`_unpacked`."""
    fractions = ", ".join(str(q) for _label, q in PERCENTILES)
    return f"percentile_cont(ARRAY[{fractions}]) WITHIN GROUP (ORDER BY {seconds}) FILTER (WHERE {only})"


def _unpacked(array: str, unit: int) -> str:
    return ", ".join(f"round(({array}[{i}] / {unit})::numeric, 1)" for i in range(1, len(PERCENTILES) + 1))


async def operations(
    session: AsyncSession, selection: Selection, translate: Translate, *, by_provider: bool = True
) -> pl.DataFrame:
    """Per provider, or (``by_provider=False``) over all lines, without the ``provider`` column."""
    provider = "l.provider_id" if by_provider else "NULL::bigint"
    counted = (
        f"SELECT {bucket_sql(selection.grouping, 'l.paid_at')} AS period_start, {provider} AS provider_id, "  # noqa: S608
        "count(*) AS lines, count(*) FILTER (WHERE l.fulfillment_status = 'completed') AS completed, "
        "count(*) FILTER (WHERE l.fulfillment_status = 'partial') AS partial, "
        "count(*) FILTER (WHERE l.fulfillment_status = 'canceled') AS canceled, "
        f"count(*) FILTER (WHERE l.fulfillment_status IN ({ISSUES})) AS open_issues, "
        "count(*) FILTER (WHERE NOT l.staff_acted) AS automated, count(*) FILTER (WHERE l.refilled) AS refilled, "
        f"{_percentiles('l.dispatch_seconds')} AS dispatch, "
        f"{_percentiles('l.finish_seconds', COMPLETED)} AS completion "
        "FROM operations_line l WHERE l.paid_at >= $1 AND l.paid_at < $2 GROUP BY 1, 2"
    )
    query = (
        "SELECT c.period_start, p.name, c.lines, c.completed, c.partial, c.canceled, c.open_issues, c.automated, "  # noqa: S608
        f"c.refilled, {_unpacked('c.dispatch', 60)}, {_unpacked('c.completion', 3600)} "
        f"FROM ({counted}) c LEFT JOIN provider p ON p.id = c.provider_id"
    )
    args = bucket_args(selection.period, selection.grouping)
    counts = ("lines", "completed", "partial", "canceled", "open_issues", "automated", "refilled")
    durations = [f"{name}_{label}" for name in ("dispatch_minutes", "completion_hours") for label, _q in PERCENTILES]
    schema: Schema = {
        "period_start": pl.Date,
        "provider": pl.String,
        **dict.fromkeys(counts, pl.Int64),
        **dict.fromkeys(durations, pl.Decimal(14, 1)),
    }
    frame = (await copy_frame(session, query, args, schema)).with_columns(
        pl.col("provider").fill_null(translate(MANUAL)),
        automated_percent=percent("automated", "lines"),
        partial_percent=percent("partial", "lines"),
        refill_percent=percent("refilled", "lines"),
    )
    return frame.sort("period_start", "provider").select(
        *period_column(selection.grouping),
        *(["provider"] if by_provider else []),
        *counts[:5],
        *durations,
        "automated_percent",
        "partial_percent",
        "refill_percent",
    )
