"""Subscriptions per Berlin month: recurring revenue, what came and went, and how many renewals were paid.

A plan is billed monthly (the only interval the storefront sells), one order per paid period: the first by the
checkout, every later one a renewal order. So a subscription is *active in a month* when one of its orders was
paid in it, and its monthly recurring revenue (MRR) that month is the net of those orders (a later price or
quantity change shows in the month it was paid).

Columns, per ``period`` (a month) and ``currency`` (kept apart): ``subscriptions`` (active), ``mrr``,
``new_mrr`` (first paid month), ``reactivated_mrr`` (active again after at least a month without a paid period),
``churned_mrr`` (last month's MRR of subscriptions active last month but not this month), ``renewals_due``
(active last month and not canceled before this month began), ``renewals_paid`` (of those, active this month),
``renewal_percent`` (paid of due), ``churned`` (subscriptions) and ``churn_percent`` (churned of last month's
active). A renewal the processor collects only after its month is over counts in the month it was paid.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Translate
from reports.datasets import MONEY
from reports.load import Schema, copy_frame
from reports.periods import DateRange, Grouping, period_label, period_start
from reports.revenue import Selection, percent

MONTH = "date_trunc('month', {} AT TIME ZONE 'Europe/Berlin')::date"
MEASURES = (
    "subscriptions",
    "mrr",
    "new_mrr",
    "reactivated_mrr",
    "churned_mrr",
    "renewals_due",
    "renewals_paid",
    "renewal_percent",
    "churned",
    "churn_percent",
)


async def _paid_months(session: AsyncSession, loaded: DateRange) -> pl.DataFrame:
    """Per subscription, currency and month paid: ``mrr``, with the subscription's first paid month (ever) and
    the Berlin day it was canceled."""
    query = (
        f"SELECT o.subscription_id, o.currency, {MONTH.format('o.paid_at')}, sum(o.net), "  # noqa: S608 - constants
        f"{MONTH.format('f.first_paid')}, (s.canceled_at AT TIME ZONE 'Europe/Berlin')::date "
        "FROM orders o JOIN subscription s ON s.id = o.subscription_id "
        "JOIN (SELECT subscription_id, min(paid_at) AS first_paid FROM orders WHERE subscription_id IS NOT NULL "
        "AND paid_at IS NOT NULL GROUP BY subscription_id) f ON f.subscription_id = o.subscription_id "
        "WHERE o.paid_at >= $1 AND o.paid_at < $2 GROUP BY 1, 2, 3, 5, 6"
    )
    schema: Schema = {
        "subscription": pl.Int64,
        "currency": pl.String,
        "month": pl.Date,
        "mrr": MONEY,
        "first_month": pl.Date,
        "canceled_on": pl.Date,
    }
    return await copy_frame(session, query, (loaded.start, loaded.end), schema)


def monthly(paid: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """The report's rows from :func:`_paid_months` (loaded from the month before ``first``): every month from
    ``first`` to ``last`` per currency seen (the euro always), zeros where nothing was paid."""
    facts = paid.select("subscription", "first_month", "canceled_on").unique("subscription")
    earlier = paid.select(
        "subscription", "currency", pl.col("month").dt.offset_by("1mo"), pl.col("mrr").alias("previous_mrr")
    )
    keys = ["subscription", "currency", "month"]
    both = (
        paid.select(*keys, "mrr")
        .join(earlier, on=keys, how="full", coalesce=True)
        .join(facts, on="subscription", how="left")
    )
    active, before = pl.col("mrr").is_not_null(), pl.col("previous_mrr").is_not_null()
    due = before & ~(pl.col("canceled_on") < pl.col("month")).fill_null(False)
    money = pl.lit(0).cast(MONEY)
    rows = both.group_by("month", "currency").agg(
        subscriptions=active.sum().cast(pl.Int64),
        mrr=pl.col("mrr").sum(),
        new_mrr=pl.when(pl.col("first_month") == pl.col("month")).then(pl.col("mrr")).otherwise(money).sum(),
        reactivated_mrr=pl.when(active & ~before & (pl.col("first_month") < pl.col("month")))
        .then(pl.col("mrr"))
        .otherwise(money)
        .sum(),
        churned_mrr=pl.when(before & ~active).then(pl.col("previous_mrr")).otherwise(money).sum(),
        renewals_due=due.sum().cast(pl.Int64),
        renewals_paid=(due & active).sum().cast(pl.Int64),
        churned=(before & ~active).sum().cast(pl.Int64),
        active_before=before.sum().cast(pl.Int64),
    )
    months = pl.date_range(first, last, interval="1mo", eager=True).alias("month")
    currencies = pl.Series("currency", sorted(set(rows["currency"].to_list()) | {"EUR"}))
    grid = months.to_frame().join(currencies.to_frame(), how="cross")
    frame = grid.join(rows, on=["month", "currency"], how="left").with_columns(
        pl.col(name).fill_null(0) for name in ("subscriptions", "renewals_due", "renewals_paid", "churned")
    )
    frame = frame.with_columns(
        pl.col(name).fill_null(money) for name in ("mrr", "new_mrr", "reactivated_mrr", "churned_mrr")
    ).with_columns(
        renewal_percent=percent("renewals_paid", "renewals_due"),
        churn_percent=percent("churned", "active_before"),
    )
    return frame.sort("currency", "month").select(
        period_label(pl.col("month"), Grouping.MONTH).alias("period"), "currency", *MEASURES
    )


async def subscriptions(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    """Always per month, whatever grouping is asked for: MRR is a monthly figure."""
    first = pl.select(period_start(pl.lit(selection.period.first), Grouping.MONTH)).item()
    last = pl.select(period_start(pl.lit(selection.period.last), Grouping.MONTH)).item()
    before = pl.select(pl.lit(first).dt.offset_by("-1mo")).item()
    paid = await _paid_months(session, DateRange(before, selection.period.last))
    return monthly(paid, first, last)
