"""Cohort retention: customers grouped by the Berlin month of their first paid order, and how many come back.

Columns: ``cohort`` (the month of the first paid order; every month the range touches), ``customers`` (in the
cohort) and ``month_0_percent`` … ``month_11_percent``: the share of the cohort with at least one paid order in
the month that many months after the first (month 0 is the first month itself, so 100 %). A month after the
range's last month is not known yet: null. Orders count in any currency. The cohort is the month of the first
payment kept on the customer (``customer.first_paid_at``); one pass over the orders of the customers who first
paid from the range's first month on, each customer's paid months counted once.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Translate
from reports.load import Schema, copy_frame
from reports.periods import DateRange, Grouping, bucket_args, period_label
from reports.revenue import Selection, percent

MONTHS = 12
SHARE = pl.Decimal(24, 1)  # as ``percent`` gives it
RETAINED = [f"month_{since}_percent" for since in range(MONTHS)]


async def cohorts(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    # Months as bucket numbers (``bucket_sql``'s binary search): from the range's first month to the one after
    # its last. Cohorts from the first payment kept on the customer; then each customer's paid months, once each.
    month = "width_bucket({}, $3::timestamptz[])"
    query = (
        "SELECT ($4::date[])[cohort], paid - cohort, count(*) FROM ("  # noqa: S608 - constants only
        f"SELECT {month.format('f.first_paid_at')} AS cohort, {month.format('o.paid_at')} AS paid "
        "FROM customer f JOIN orders o ON o.customer_id = f.id "
        "WHERE f.first_paid_at >= $1 AND f.first_paid_at < $2 AND o.paid_at >= $1 AND o.paid_at < $2 "
        "GROUP BY o.customer_id, 1, 2) m "
        f"WHERE paid - cohort < {MONTHS} GROUP BY 1, 2"
    )
    schema: Schema = {"cohort": pl.Date, "since": pl.Int64, "retained": pl.Int64}
    period = selection.period
    months = DateRange(period.first.replace(day=1), period.last)
    counts = await copy_frame(session, query, bucket_args(months, Grouping.MONTH), schema)
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
