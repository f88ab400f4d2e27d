"""Which chart a report gets, made from its frame: the one place the admin page and the PDF ask.

Money is charted in euros only (other currencies stay in the table), per ``period``; a report cut as one
bucket (no ``period`` column) gets no bar chart, and an empty frame no chart at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from app.i18n import N_, Translate
from reports.charts import (
    BarChart,
    FunnelChart,
    HeatMap,
    bar_chart,
    funnel_chart,
    heat_map,
    stacked_bar_chart,
    stacks,
)
from reports.cohorts import RETAINED
from reports.columns import COLUMN_TITLES
from reports.datasets import DIMENSIONS
from reports.funnel import STEPS

CHART_CURRENCY = "EUR"
REVENUE = "net_after_refunds"
OTHER = N_("Other")


@dataclass(frozen=True)
class ReportChart:
    title: str  # translated
    bars: BarChart | None = None  # euros on the axis
    funnel: FunnelChart | None = None
    heat_map: HeatMap | None = None  # shares in percent


@dataclass(frozen=True)
class Size:
    width: int = 720
    height: int = 260  # of bar charts; a funnel is as high as its steps need


PAGE = Size()  # the admin page's SVG viewBox; it scales with the page
ChartMaker = Callable[[pl.DataFrame, Translate, Size], ReportChart | None]


def euro_points(frame: pl.DataFrame, measure: str) -> list[tuple[str, Decimal]]:
    """``measure`` in euros per period, in the report's order."""
    euro = frame.filter(pl.col("currency") == CHART_CURRENCY)
    totals = euro.group_by("period", maintain_order=True).agg(pl.col(measure).sum())
    return [(str(period), Decimal(value)) for period, value in totals.rows()]


def _revenue(frame: pl.DataFrame, translate: Translate, size: Size) -> ReportChart | None:
    points = euro_points(frame, REVENUE)
    bars = bar_chart(points, width=size.width, height=size.height)
    return ReportChart(translate(N_("Net after refunds (EUR) per period")), bars=bars)


def _stacked(frame: pl.DataFrame, translate: Translate, size: Size) -> ReportChart | None:
    """Each period's bar stacked by the split's values (with several split columns, by their pairs)."""
    split = [name for name in frame.columns if name in DIMENSIONS]
    euro = frame.filter(pl.col("currency") == CHART_CURRENCY)
    if euro.is_empty():
        return None
    rows = [
        (str(row[0]), " · ".join(str(value) for value in row[1:-1]), Decimal(row[-1]))
        for row in euro.select("period", *split, REVENUE).rows()
    ]
    bars = stacked_bar_chart(stacks(rows, other=translate(OTHER)), width=size.width, height=size.height)
    by = " · ".join(translate(COLUMN_TITLES[name]) for name in split)
    return ReportChart(translate(N_("Net after refunds (EUR) per period, by %(split)s")) % {"split": by}, bars=bars)


def _funnel(frame: pl.DataFrame, translate: Translate, size: Size) -> ReportChart:
    """The steps over the whole selection; cut in periods, each period's visitors are added up (a visitor seen
    in two periods counts twice), which the title says."""
    steps = [(translate(COLUMN_TITLES[name]), int(frame[name].sum())) for name in STEPS.values()]
    title = (
        N_("Visitors per step, added up over the periods, and the share of the step before")
        if "period" in frame.columns
        else N_("Visitors per step and the share of the step before")
    )
    return ReportChart(translate(title), funnel=funnel_chart(steps, width=size.width))


def _mrr(frame: pl.DataFrame, translate: Translate, size: Size) -> ReportChart:
    bars = bar_chart(euro_points(frame, "mrr"), width=size.width, height=size.height)
    return ReportChart(translate(N_("Monthly recurring revenue (EUR) per month")), bars=bars)


def _heat_map(frame: pl.DataFrame, translate: Translate, _size: Size) -> ReportChart:
    """Cohort retention: a row per cohort, a column per month since the first order."""
    rows = [(str(row[0]), [Decimal(share) if share is not None else None for share in row[2:]]) for row in frame.rows()]
    grid = heat_map(rows, [str(since) for since in range(len(RETAINED))])
    title = N_("Share of each cohort buying again, by months since the first order")
    return ReportChart(translate(title), heat_map=grid)


SPLITS = ("service", "category", "platform", "country", "customer-type", "source")
CHARTS: dict[str, ChartMaker] = {
    "revenue": _revenue,
    **{f"revenue-by-{split}": _stacked for split in SPLITS},
    "tax": _stacked,
    "oss": _stacked,
    "funnel": _funnel,
    "subscriptions": _mrr,
    "cohort-retention": _heat_map,
}
WITHOUT_PERIODS = frozenset(
    {"funnel", "cohort-retention"}
)  # charts drawn over the whole selection, cut in periods or not


def report_chart(report: str, frame: pl.DataFrame, translate: Translate, size: Size = PAGE) -> ReportChart | None:
    """The chart of report ``report`` (its name in ``reports.catalog``) for ``frame``, if it has one."""
    make = CHARTS.get(report)
    if make is None or frame.is_empty() or ("period" not in frame.columns and report not in WITHOUT_PERIODS):
        return None
    return make(frame, translate, size)
