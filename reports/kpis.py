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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import N_, Translate
from reports.bookkeeping import bookkeeping
from reports.customers import customers
from reports.funnel import funnel
from reports.operations import operations
from reports.periods import DateRange, previous_range
from reports.revenue import Build, Selection
from reports.subscriptions import subscriptions

VALUE = pl.Decimal(24, 1)
Measure = Callable[["_Period"], Awaitable[Decimal | None]]

CONVERSION = N_("Conversion")
LOYALTY = N_("Repeat purchase and renewal")
PROCESSING = N_("Order processing")
BOOKKEEPING = N_("Bookkeeping")
SATISFACTION = N_("Customer satisfaction")


@dataclass(frozen=True)
class Metric:
    key: str
    success_metric: str  # which of the five (N_)
    title: str  # N_
    definition: str  # N_, one line
    unit: str  # "%", "h" or "" (a count)
    measure: Measure | None  # None: no data source yet
    lower_is_better: bool = False


@dataclass
class _Period:
    """The reports the figures of one period are read off, each built once however many figures it gives."""

    session: AsyncSession
    selection: Selection
    translate: Translate
    frames: dict[Build, pl.DataFrame] = field(default_factory=dict)

    async def read(self, build: Build) -> pl.DataFrame:
        if build not in self.frames:
            self.frames[build] = await build(self.session, self.selection, self.translate)
        return self.frames[build]


def _figure(build: Build, column: str) -> Measure:
    """The one value of ``column`` of a report over the whole period (None when it had nothing to count)."""

    async def measure(period: _Period) -> Decimal | None:
        frame = await period.read(build)
        value = None if frame.is_empty() else frame[column][0]
        return None if value is None else Decimal(value)

    return measure


async def _funnel(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    return await funnel(session, selection)


async def _all_lines(session: AsyncSession, selection: Selection, translate: Translate) -> pl.DataFrame:
    return await operations(session, selection, translate, by_provider=False)


async def _renewal(period: _Period) -> Decimal | None:
    months = await period.read(subscriptions)
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
        _renewal,
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


async def _values(session: AsyncSession, period: DateRange, locale: str, translate: Translate) -> list[Decimal | None]:
    reading = _Period(session, Selection(period, None, locale), translate)
    return [None if metric.measure is None else await metric.measure(reading) for metric in METRICS]


async def kpis(session: AsyncSession, selection: Selection, translate: Translate) -> pl.DataFrame:
    """One row per figure of :data:`METRICS`, in order, over the whole period (any grouping is ignored)."""
    current = await _values(session, selection.period, selection.locale, translate)
    previous = await _values(session, previous_range(selection.period), selection.locale, translate)
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
