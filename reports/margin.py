"""Margin: what lines sold for against what their provider charged, per service or per provider.

Lines count in the bucket their order was paid in; euro orders only (the sale and the charge are compared in
euros). The provider's charge is the one it reported for the line (``order_line.charge``, in the provider's
currency, final after a partial delivery) converted with the provider's ``eur_per_unit``, rounded to the cent.

Columns: ``period`` (unless one bucket), ``service`` or ``provider`` ("manual" for lines staff fulfil by hand),
``lines``, ``uncharged_lines`` (no charge reported yet, or fulfilled by hand: they count at no cost), ``net``,
``refunds_net`` (refunds made for those lines, whenever made), ``provider_charge``, ``margin`` (net after
refunds less the charge) and ``margin_percent`` (of net after refunds).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Translate
from reports.datasets import DIMENSIONS, MONEY, named
from reports.load import Schema, copy_frame
from reports.operations import MANUAL
from reports.periods import bucket_args, bucket_sql, period_column
from reports.revenue import Selection, percent

KEYS = {"service": "l.service_id::text", "provider": "p.name"}
LINE_REFUNDS = (
    "SELECT r.order_line_id, sum(round(r.amount * o.net / NULLIF(o.gross, 0), 2)) AS refunds_net FROM refund r "
    "JOIN payment y ON y.id = r.payment_id JOIN orders o ON o.id = y.order_id "
    "WHERE r.status = 'succeeded' AND r.order_line_id IS NOT NULL GROUP BY 1"
)


async def margin_by(session: AsyncSession, selection: Selection, translate: Translate, key: str) -> pl.DataFrame:
    query = (
        f"SELECT {bucket_sql(selection.grouping, 'o.paid_at')}, {KEYS[key]}, count(*), "  # noqa: S608 - constants
        "count(*) FILTER (WHERE l.charge IS NULL), sum(l.net), coalesce(sum(x.refunds_net), 0), "
        "coalesce(round(sum(l.charge * p.eur_per_unit), 2), 0) "
        "FROM order_line l JOIN orders o ON o.id = l.order_id LEFT JOIN provider p ON p.id = l.provider_id "
        f"LEFT JOIN ({LINE_REFUNDS}) x ON x.order_line_id = l.id "
        "WHERE o.paid_at >= $1 AND o.paid_at < $2 AND o.currency = 'EUR' GROUP BY 1, 2"
    )
    schema: Schema = {
        "period_start": pl.Date,
        key: pl.String,
        "lines": pl.Int64,
        "uncharged_lines": pl.Int64,
        "net": MONEY,
        "refunds_net": MONEY,
        "provider_charge": MONEY,
    }
    frame = await copy_frame(session, query, bucket_args(selection.period, selection.grouping), schema)
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
