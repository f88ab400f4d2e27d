"""Margin: what lines sold for against what their provider charged, per service or per provider.

Lines count in the bucket their order was paid in; euro orders only (the sale and the charge are compared in
euros). The provider's charge is the one it reported for the line (``order_line.charge``, in the provider's
currency, final after a partial delivery) converted with the provider's ``eur_per_unit``, rounded to the cent.
Lines, net and charges come from the daily line totals kept by triggers (``app/analytics/sales_line_days.py``),
the refunds from the refunds of those lines.

Columns: ``period`` (unless one bucket), ``service`` or ``provider`` ("manual" for lines staff fulfil by hand),
``lines``, ``uncharged_lines`` (no charge reported yet, or fulfilled by hand: they count at no cost), ``net``,
``refunds_net`` (refunds made for those lines, whenever made), ``provider_charge``, ``margin`` (net after
refunds less the charge) and ``margin_percent`` (of net after refunds).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.sales_line_days import SALES_LINE_DAYS
from app.i18n import Translate
from reports.datasets import DIMENSIONS, MONEY, named
from reports.load import Schema, copy_frame
from reports.operations import MANUAL
from reports.periods import bucket_args, bucket_sql, period_column
from reports.revenue import Selection, percent

KEYS = {"service": "l.service_id::text", "provider": "p.name"}


def _bucket(selection: Selection) -> str:
    """The first day of the bucket of a line day ``l.day`` (the range's first day, ``$3``, with no grouping)."""
    return f"date_trunc('{selection.grouping.value}', l.day::timestamp)::date" if selection.grouping else "$3::date"


async def _sales(session: AsyncSession, selection: Selection, key: str) -> pl.DataFrame:
    """Lines, uncharged lines, net and the provider's charge in euros, from the daily line totals."""
    period = selection.period
    query = (
        f"SELECT {_bucket(selection)}, {KEYS[key]}, sum(l.lines), sum(l.uncharged_lines), sum(l.net), "  # noqa: S608
        "coalesce(round(sum(l.charge * p.eur_per_unit), 2), 0) "
        f"FROM ({SALES_LINE_DAYS}) l LEFT JOIN provider p ON p.id = l.provider_id "
        "WHERE l.day >= $1 AND l.day <= $2 AND l.currency = 'EUR' GROUP BY 1, 2 HAVING sum(l.lines) <> 0"
    )
    args = (period.first, period.last) if selection.grouping else (period.first, period.last, period.first)
    schema: Schema = {
        "period_start": pl.Date,
        key: pl.String,
        "lines": pl.Int64,
        "uncharged_lines": pl.Int64,
        "net": MONEY,
        "provider_charge": MONEY,
    }
    return await copy_frame(session, query, args, schema)


async def _refunds(session: AsyncSession, selection: Selection, key: str) -> pl.DataFrame:
    """The net refunded for the lines paid in each bucket, whenever refunded."""
    query = (
        f"SELECT {bucket_sql(selection.grouping, 'o.paid_at')}, {KEYS[key]}, "  # noqa: S608 - constants
        "sum(round(r.amount * o.net / NULLIF(o.gross, 0), 2)) FROM refund r "
        "JOIN order_line l ON l.id = r.order_line_id JOIN orders o ON o.id = l.order_id "
        "LEFT JOIN provider p ON p.id = l.provider_id "
        "WHERE r.status = 'succeeded' AND o.paid_at >= $1 AND o.paid_at < $2 AND o.currency = 'EUR' GROUP BY 1, 2"
    )
    schema: Schema = {"period_start": pl.Date, key: pl.String, "refunds_net": MONEY}
    return await copy_frame(session, query, bucket_args(selection.period, selection.grouping), schema)


async def margin_by(session: AsyncSession, selection: Selection, translate: Translate, key: str) -> pl.DataFrame:
    keys = ["period_start", key]
    frame = (await _sales(session, selection, key)).join(
        await _refunds(session, selection, key), on=keys, how="left", nulls_equal=True
    )
    frame = frame.with_columns(pl.col("refunds_net").fill_null(pl.lit(0).cast(MONEY)))
    if key == "service":
        frame = await named(session, frame, [DIMENSIONS["service"]], selection.locale)
    else:
        frame = frame.with_columns(pl.col("provider").fill_null(translate(MANUAL)))
    frame = frame.with_columns(kept=pl.col("net") - pl.col("refunds_net"))
    frame = frame.with_columns(margin=pl.col("kept") - pl.col("provider_charge"))
    frame = frame.with_columns(margin_percent=percent("margin", "kept"))
    return frame.sort(["period_start", "margin", key], descending=[False, True, False]).select(
        *period_column(selection.grouping),
        key,
        "lines",
        "uncharged_lines",
        "net",
        "refunds_net",
        "provider_charge",
        "margin",
        "margin_percent",
    )
