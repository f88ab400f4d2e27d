"""Cohort retention: customers grouped by the Berlin month of their first paid order, and how many come back.

Columns: ``cohort`` (the month of the first paid order; every month the range touches), ``customers`` (in the
cohort) and ``month_0_percent`` … ``month_11_percent``: the share of the cohort with at least one paid order in
the month that many months after the first (month 0 is the first month itself, so 100 %). A month after the
range's last month is not known yet: null. Orders count in any currency; one pass over the orders paid before
the range ends (the months each customer paid in, the first of them the cohort).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Translate
from reports.load import Schema, copy_frame
from reports.periods import Grouping, period_label
from reports.revenue import Selection, percent

MONTHS = 12
SHARE = pl.Decimal(24, 1)  # as ``percent`` gives it
RETAINED = [f"month_{since}_percent" for since in range(MONTHS)]
MONTH = "date_trunc('month', {} AT TIME ZONE 'Europe/Berlin')"


async def cohorts(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    since = "(extract(year FROM age(month, cohort)) * 12 + extract(month FROM age(month, cohort)))::int"
    query = (
        f"SELECT cohort::date, {since}, count(*) FROM (SELECT customer_id, month, "  # noqa: S608 - constants only
        "min(month) OVER (PARTITION BY customer_id) AS cohort FROM "
        f"(SELECT customer_id, {MONTH.format('paid_at')} AS month FROM orders "
        "WHERE paid_at IS NOT NULL AND paid_at < $2 GROUP BY 1, 2) m) w "
        f"WHERE cohort >= {MONTH.format('$1::timestamptz')} AND month < cohort + interval '{MONTHS} months' "
        "GROUP BY 1, 2"
    )
    schema: Schema = {"cohort": pl.Date, "since": pl.Int64, "retained": pl.Int64}
    period = selection.period
    counts = await copy_frame(session, query, (period.start, period.end), schema)
    return retention(counts, period.last)


def retention(counts: pl.DataFrame, last: date) -> pl.DataFrame:
    """The report from ``cohort``, ``since`` (months), ``retained`` (customers) counts; months after ``last``'s
    month are null."""
    sizes = counts.filter(pl.col("since") == 0).select("cohort", customers=pl.col("retained"))
    if sizes.is_empty():
        return pl.DataFrame(schema={"cohort": pl.String, "customers": pl.Int64, **dict.fromkeys(RETAINED, SHARE)})
    shares = counts.join(sizes, on="cohort").with_columns(share=percent("retained", "customers"))
    elapsed = (last.year - pl.col("cohort").dt.year()) * 12 + last.month - pl.col("cohort").dt.month()
    grid = sizes.join(pl.DataFrame({"since": list(range(MONTHS))}), how="cross").with_columns(
        observed=pl.col("since") <= elapsed
    )
    cells = grid.join(shares.select("cohort", "since", "share"), on=["cohort", "since"], how="left").with_columns(
        share=pl.when(pl.col("observed")).then(pl.col("share").fill_null(pl.lit(0).cast(SHARE)))
    )
    frame = cells.with_columns(column=pl.format("month_{}_percent", pl.col("since"))).pivot(
        on="column", index=["cohort", "customers"], values="share"
    )
    return frame.sort("cohort").select(
        period_label(pl.col("cohort"), Grouping.MONTH).alias("cohort"), "customers", *RETAINED
    )
