"""Revenue reports: per period, and split by what was sold, to whom and how (pure Polars over ``datasets``).

Every money column is an exact ``Decimal(…, 2)``; averages and shares are rounded half-up. Columns:

``revenue``
    ``period``, ``currency``, ``orders``, ``net``, ``vat``, ``gross``, ``refunds_net``, ``refunds_vat``,
    ``refunds_gross``, ``net_after_refunds``, ``gross_after_refunds``, ``average_order_value`` (gross per paid
    order), ``previous_net_after_refunds`` (the bucket before, even when it lies before the range) and
    ``change_percent`` against it. Every bucket of the range has a row per currency, with zeros when nothing sold.

``revenue_by`` (one dimension, optionally per period)
    [``period``,] the dimensions, ``currency``, ``orders`` (``lines`` for service, category, platform), ``net``,
    [``vat``, ``gross`` for order dimensions,]
    ``refunds_net``, ``net_after_refunds`` and ``share_percent`` of the currency's (and period's) total.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import N_, Translate, untranslated
from app.invoicing.tax import TaxTreatment
from reports.datasets import MONEY, Dimension, Level, daily_refunds, daily_sales, level_of
from reports.periods import DateRange, Grouping, period_column, period_label, period_start

WHOLE_ORDER = N_("whole order")
PRECISE = pl.Decimal(24, 6)


@dataclass(frozen=True)
class Selection:
    """What a report is asked for: days, bucket size (``None``: the whole range as one), language of labels."""

    period: DateRange
    grouping: Grouping | None = Grouping.MONTH
    locale: str = "en"


# A report: its rows for a selection, labels in the translation given.
Build = Callable[[AsyncSession, Selection, Translate], Awaitable[pl.DataFrame]]


def _rounded(expression: pl.Expr, places: int = 2) -> pl.Expr:
    """Half-up to ``places`` decimals, and shown with exactly that many."""
    return expression.round(places, mode="half_away_from_zero").cast(pl.Decimal(24, places))


def _ratio(numerator: str, denominator: str, *, scale: int = 1, places: int = 2) -> pl.Expr:
    """``numerator * scale / denominator`` rounded half-up; null where the denominator is zero."""
    value = pl.col(numerator).cast(PRECISE) * scale / pl.col(denominator)
    return pl.when(pl.col(denominator) != 0).then(_rounded(value, places)).otherwise(None)


def _with_buckets(frame: pl.DataFrame, grouping: Grouping | None, first: date) -> pl.DataFrame:
    start = period_start(pl.col("day"), grouping) if grouping else pl.lit(first)
    return frame.with_columns(period_start=start).drop("day")


def _sum_money(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    measures = [name for name in frame.columns if name not in keys]
    return frame.group_by(keys).agg(pl.col(name).sum() for name in measures)


def _zero_filled(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(name).fill_null(0 if dtype == pl.Int64 else pl.lit(0).cast(MONEY))
        for name, dtype in frame.schema.items()
        if dtype == pl.Int64 or isinstance(dtype, pl.Decimal)
    )


def _joined(sales: pl.DataFrame, refunds: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return _zero_filled(sales.join(refunds, on=keys, how="full", coalesce=True, nulls_equal=True))


async def revenue(session: AsyncSession, selection: Selection) -> pl.DataFrame:
    grouping = selection.grouping or Grouping.MONTH
    first_bucket = pl.select(period_start(pl.lit(selection.period.first), grouping)).item()
    before = pl.select(pl.lit(first_bucket).dt.offset_by(f"-1{_unit(grouping)}")).item()
    loaded = DateRange(before, selection.period.last)
    keys = ["period_start", "currency"]
    sales = _sum_money(_with_buckets(await daily_sales(session, loaded), grouping, loaded.first), keys)
    refunds = _sum_money(_with_buckets(await daily_refunds(session, loaded), grouping, loaded.first), keys)
    frame = _joined(sales, refunds, keys).drop("refunds")
    frame = _every_bucket(frame, grouping, before, selection.period.last)
    frame = frame.with_columns(
        net_after_refunds=pl.col("net") - pl.col("refunds_net"),
        gross_after_refunds=pl.col("gross") - pl.col("refunds_gross"),
        average_order_value=_ratio("gross", "orders"),
    ).sort("currency", "period_start")
    frame = frame.with_columns(previous_net_after_refunds=pl.col("net_after_refunds").shift(1).over("currency"))
    frame = frame.with_columns(change_percent=_change("net_after_refunds", "previous_net_after_refunds"))
    frame = frame.filter(pl.col("period_start") >= first_bucket)
    return frame.select(
        period_label(pl.col("period_start"), grouping).alias("period"),
        "currency",
        "orders",
        "net",
        "vat",
        "gross",
        "refunds_net",
        "refunds_vat",
        "refunds_gross",
        "net_after_refunds",
        "gross_after_refunds",
        "average_order_value",
        "previous_net_after_refunds",
        "change_percent",
    )


def _unit(grouping: Grouping) -> str:
    return {Grouping.DAY: "d", Grouping.WEEK: "w", Grouping.MONTH: "mo", Grouping.QUARTER: "q", Grouping.YEAR: "y"}[
        grouping
    ]


def percent(part: str, whole: str) -> pl.Expr:
    """``part`` as a percentage of ``whole``, one decimal, half-up; null where ``whole`` is zero."""
    return _ratio(part, whole, scale=100, places=1)


def _change(current: str, previous: str) -> pl.Expr:
    delta = (pl.col(current) - pl.col(previous)).cast(PRECISE) * 100 / pl.col(previous)
    return pl.when(pl.col(previous) > 0).then(_rounded(delta, 1)).otherwise(None)


def _every_bucket(frame: pl.DataFrame, grouping: Grouping, first: date, last: date) -> pl.DataFrame:
    """One row per bucket and currency seen (the euro always), so empty periods show as zeros."""
    starts = pl.date_range(first, last, interval=f"1{_unit(grouping)}", eager=True).alias("period_start")
    currencies = pl.Series("currency", sorted(set(frame["currency"].to_list()) | {"EUR"}))
    grid = starts.to_frame().join(currencies.to_frame(), how="cross")
    return _zero_filled(grid.join(frame, on=["period_start", "currency"], how="left"))


async def revenue_by(
    session: AsyncSession,
    selection: Selection,
    dimensions: Sequence[Dimension],
    translate: Translate = untranslated,
    *,
    treatment: TaxTreatment | None = None,
) -> pl.DataFrame:
    """Revenue split by ``dimensions`` (optionally of one tax treatment only), largest first."""
    names = [dimension.key for dimension in dimensions]
    keys = ["period_start", *names, "currency"]
    sales = await daily_sales(session, selection.period, dimensions, selection.locale, treatment)
    refunds = await daily_refunds(session, selection.period, dimensions, selection.locale, treatment)
    refunds = refunds.with_columns(
        pl.col(dimension.key).fill_null(translate(WHOLE_ORDER))
        for dimension in dimensions
        if dimension.level is Level.LINE
    )
    sales = _sum_money(_with_buckets(sales, selection.grouping, selection.period.first), keys)
    refunds = _sum_money(_with_buckets(refunds, selection.grouping, selection.period.first), keys)
    frame = _joined(sales, refunds, keys).with_columns(net_after_refunds=pl.col("net") - pl.col("refunds_net"))
    totals = ["period_start", "currency"]
    total = pl.col("net_after_refunds").sum().over(totals)
    frame = frame.with_columns(
        share_percent=pl.when(total != 0)
        .then(_rounded(pl.col("net_after_refunds").cast(PRECISE) * 100 / total, 1))
        .otherwise(None)
    ).sort(
        ["period_start", "currency", "net_after_refunds", *names],
        descending=[False, False, True, *(False for _ in names)],
    )
    by_line = level_of(dimensions) is Level.LINE
    counted, order_measures = ("lines", []) if by_line else ("orders", ["vat", "gross"])
    return frame.select(
        *period_column(selection.grouping),
        *names,
        "currency",
        counted,
        "net",
        *order_measures,
        "refunds_net",
        "net_after_refunds",
        "share_percent",
    )
