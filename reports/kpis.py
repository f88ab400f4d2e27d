"""The business's five success metrics, each figure with its one-line definition, for a period and the one before.

Every figure is read off a report (the same definitions as the report pages and files), over the whole period:

1. **Conversion** — ``funnel``: ``conversion_percent``, paid of landing-page visitors.
2. **Repeat purchase and renewal** — ``customers``: ``returning_percent``; ``subscriptions``: renewals paid of
   renewals due, over the months the period touches.
3. **Order processing** — ``operations`` over all lines: ``completion_hours_p50`` (paid → completed, median)
   and ``automated_percent``.
4. **Bookkeeping** — ``bookkeeping``: ``synced_within_24h_percent`` and ``sync_failures``.
5. **Customer satisfaction** — NPS, support tickets per 100 orders and first-response time have no source yet:
   shown as "not measured yet".

The ``kpis`` report: ``success_metric``, ``metric``, ``value``, ``previous_value`` (the period before, see
``periods.previous_range``), ``change`` (value less previous, in the metric's unit), ``unit`` and
``definition``; a metric not measured yet has no values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.read_only import exported_snapshot, read_only_session
from app.i18n import N_, Translate
from reports.bookkeeping import bookkeeping
from reports.customers import customers
from reports.funnel import funnel
from reports.operations import operations
from reports.periods import previous_range
from reports.revenue import Build, Selection
from reports.subscriptions import subscriptions

VALUE = pl.Decimal(24, 1)
# Reports read at once for the figures: two cores' worth of queries, and a connection each from the pool.
SIDE_BY_SIDE = 3

CONVERSION = N_("Conversion")
LOYALTY = N_("Repeat purchase and renewal")
PROCESSING = N_("Order processing")
BOOKKEEPING = N_("Bookkeeping")
SATISFACTION = N_("Customer satisfaction")


@dataclass(frozen=True)
class Source:
    """Where a figure comes from: the report it is read off, and how it is read."""

    build: Build
    read: Callable[[pl.DataFrame], Decimal | None]


@dataclass(frozen=True)
class Metric:
    key: str
    success_metric: str  # which of the five (N_)
    title: str  # N_
    definition: str  # N_, one line
    unit: str  # "%", "h" or "" (a count)
    source: Source | None  # None: no data source yet
    lower_is_better: bool = False


def _figure(build: Build, column: str) -> Source:
    """The one value of ``column`` of a report over the whole period (None when it had nothing to count)."""

    def read(frame: pl.DataFrame) -> Decimal | None:
        value = None if frame.is_empty() else frame[column][0]
        return None if value is None else Decimal(value)

    return Source(build, read)


async def _funnel(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    return await funnel(session, selection)


async def _all_lines(session: AsyncSession, selection: Selection, translate: Translate) -> pl.DataFrame:
    return await operations(session, selection, translate, by_provider=False)


def _renewal(months: pl.DataFrame) -> Decimal | None:
    due, paid = int(months["renewals_due"].sum()), int(months["renewals_paid"].sum())
    return (Decimal(paid * 100) / due).quantize(Decimal("0.1"), ROUND_HALF_UP) if due else None


METRICS: tuple[Metric, ...] = (
    Metric(
        "conversion",
        CONVERSION,
        N_("Landing page → purchase"),
        N_("Visitors who paid, as a share of the visitors who saw the landing page."),
        "%",
        _figure(_funnel, "conversion_percent"),
    ),
    Metric(
        "repeat_purchase",
        LOYALTY,
        N_("Repeat purchase rate"),
        N_("Customers who paid in the period and had paid before it, of all who paid in it."),
        "%",
        _figure(customers, "returning_percent"),
    ),
    Metric(
        "renewal",
        LOYALTY,
        N_("Subscription renewal rate"),
        N_("Renewals paid, of renewals due (subscriptions active the month before and not canceled)."),
        "%",
        Source(subscriptions, _renewal),
    ),
    Metric(
        "processing_time",
        PROCESSING,
        N_("Processing time, median"),
        N_("Hours from payment until a line is completed, median over completed lines."),
        "h",
        _figure(_all_lines, "completion_hours_p50"),
        lower_is_better=True,
    ),
    Metric(
        "automation",
        PROCESSING,
        N_("Automation coverage"),
        N_("Lines fulfilled without any action by staff, of all lines paid."),
        "%",
        _figure(_all_lines, "automated_percent"),
    ),
    Metric(
        "synced_within_24h",
        BOOKKEEPING,
        N_("Synced to Lexware Office within 24 h"),
        N_("Invoices and credit notes in Lexware Office within 24 hours of issue, of all issued."),
        "%",
        _figure(bookkeeping, "synced_within_24h_percent"),
    ),
    Metric(
        "sync_failures",
        BOOKKEEPING,
        N_("Open sync failures"),
        N_("Invoices and credit notes of the period whose sync to Lexware Office stands failed."),
        "",
        _figure(bookkeeping, "sync_failures"),
        lower_is_better=True,
    ),
    Metric("nps", SATISFACTION, N_("Net Promoter Score"), N_("No survey collects it yet."), "", None),
    Metric(
        "tickets",
        SATISFACTION,
        N_("Support tickets per 100 orders"),
        N_("No support desk records tickets yet."),
        "",
        None,
        lower_is_better=True,
    ),
    Metric(
        "first_response",
        SATISFACTION,
        N_("First-response time"),
        N_("No support desk records tickets yet."),
        "h",
        None,
        lower_is_better=True,
    ),
)


async def _values(
    session: AsyncSession, selection: Selection, translate: Translate
) -> tuple[list[Decimal | None], list[Decimal | None]]:
    """Every figure for the period and the one before. The reports they are read off run side by side (at most
    :data:`SIDE_BY_SIDE` at once), each on a connection of its own that sees exactly what ``session`` sees."""
    periods = (selection, Selection(previous_range(selection.period), None, selection.locale))
    builds = list(dict.fromkeys(metric.source.build for metric in METRICS if metric.source))
    engine = (await session.connection()).engine
    snapshot = await exported_snapshot(session)
    slots = asyncio.Semaphore(SIDE_BY_SIDE)

    async def built(build: Build, period: Selection) -> pl.DataFrame:
        async with slots, read_only_session(engine, snapshot=snapshot) as reader:
            return await build(reader, period, translate)

    pairs = [(index, build) for index in range(len(periods)) for build in builds]
    async with asyncio.TaskGroup() as group:  # one failing: the others are cancelled, no reader outlives the export
        tasks = {(i, build): group.create_task(built(build, periods[i])) for i, build in pairs}
    frames = {pair: task.result() for pair, task in tasks.items()}

    def figures(index: int) -> list[Decimal | None]:
        return [None if m.source is None else m.source.read(frames[index, m.source.build]) for m in METRICS]

    return figures(0), figures(1)


async def kpis(session: AsyncSession, selection: Selection, translate: Translate) -> pl.DataFrame:
    """One row per figure of :data:`METRICS`, in order, over the whole period (any grouping is ignored)."""
    current, previous = await _values(session, Selection(selection.period, None, selection.locale), translate)
    frame = pl.DataFrame(
        {
            "success_metric": [translate(metric.success_metric) for metric in METRICS],
            "metric": [translate(metric.title) for metric in METRICS],
            "value": current,
            "previous_value": previous,
            "unit": [metric.unit for metric in METRICS],
            "definition": [translate(metric.definition) for metric in METRICS],
        },
        schema={
            "success_metric": pl.String,
            "metric": pl.String,
            "value": VALUE,
            "previous_value": VALUE,
            "unit": pl.String,
            "definition": pl.String,
        },
    ).with_columns(change=pl.col("value") - pl.col("previous_value"))
    return frame.select("success_metric", "metric", "value", "previous_value", "change", "unit", "definition")
