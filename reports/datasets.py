"""The facts reports are made of, aggregated per Berlin calendar day in PostgreSQL and loaded into Polars.

Coarse aggregation happens in SQL (one ``GROUP BY`` per dataset over the requested range, filters pushed down);
the reports then roll days up into weeks, months or quarters and compare periods in Polars. A day is the finest
grain any report shows, so nothing is lost.

- **Sales** count on the day an order was paid (the invoice date once invoices exist); a paid order stays a
  sale when it is refunded later. Split by order facts they come from the daily totals kept by a trigger
  (``app/analytics/sales_days.py``: a few rows per day); split by lines, from the daily line totals kept by
  triggers per service (``app/analytics/sales_line_days.py``), joined to the service's current category.
- **Refunds** count on the day the processor confirmed them (the credit note's date once credit notes exist),
  gross as refunded; their net is the order's net share of that amount, rounded half-up to the cent, which is
  what the credit note reverses. Split by order facts they come from the same daily totals.

Dimensions of the order (country, customer type, source, tax treatment and rate) split order totals: net, VAT
and gross. Dimensions of a line (service, category, platform) split line nets; a refund made for the whole
order rather than for a line (in the processor's dashboard) has no line dimension (null).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import polars as pl
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.sales_days import SALES_DAYS
from app.analytics.sales_line_days import SALES_LINE_DAYS
from app.invoicing.tax import TaxTreatment
from reports.load import Schema, copy_frame
from reports.periods import DateRange

MONEY = pl.Decimal(14, 2)
# The service and category of a line ``l`` (left joins: a refund may have no line).
LINE_JOINS = "LEFT JOIN service s ON s.id = l.service_id LEFT JOIN category c ON c.id = s.category_id"


class Level(StrEnum):
    ORDER = "order"
    LINE = "line"


@dataclass(frozen=True)
class Dimension:
    """A column a report can split by.

    ``sql`` (over ``o`` orders, ``l`` the line, ``s`` its service, ``c`` its category) is a compact key to group
    by; where it is an id, ``names`` is the table whose ``name_de``/``name_en`` the report shows for it.
    """

    key: str
    level: Level
    sql: str
    names: str | None = None


DIMENSIONS: dict[str, Dimension] = {
    dimension.key: dimension
    for dimension in (
        Dimension("service", Level.LINE, "l.service_id", names="service"),
        Dimension("category", Level.LINE, "s.category_id", names="category"),
        Dimension("platform", Level.LINE, "c.platform::text"),
        Dimension("country", Level.ORDER, "o.buyer_country"),
        Dimension("customer_type", Level.ORDER, "CASE WHEN o.buyer_is_business THEN 'B2B' ELSE 'B2C' END"),
        Dimension("source", Level.ORDER, "o.source::text"),
        Dimension("tax_treatment", Level.ORDER, "o.tax_treatment::text"),
        Dimension("tax_rate", Level.ORDER, "o.tax_rate::text"),
    )
}


def level_of(dimensions: Sequence[Dimension]) -> Level:
    return Level.LINE if any(d.level is Level.LINE for d in dimensions) else Level.ORDER


def _selects(dimensions: Sequence[Dimension]) -> str:
    return "".join(f", {dimension.sql} AS {dimension.key}" for dimension in dimensions)


async def named(
    session: AsyncSession, frame: pl.DataFrame, dimensions: Sequence[Dimension], locale: str
) -> pl.DataFrame:
    """Ids replaced by the names shown in ``locale`` (a missing id, a refund without a line, stays null)."""
    for dimension in dimensions:
        if dimension.names is None:
            continue
        name = "name_de" if locale == "de" else "name_en"
        rows = await session.execute(sa.text(f"SELECT id::text, {name} FROM {dimension.names}"))  # noqa: S608
        frame = frame.with_columns(pl.col(dimension.key).replace(dict(rows.tuples().all())))
    return frame


def _group_by(dimensions: Sequence[Dimension]) -> str:
    return ", ".join(str(i) for i in range(1, 3 + len(dimensions)))


def _only(treatment: TaxTreatment | None, alias: str = "o") -> str:
    return "" if treatment is None else f" AND {alias}.tax_treatment = $3"


def _args(period: DateRange, treatment: TaxTreatment | None) -> tuple[object, ...]:
    return (period.start, period.end) if treatment is None else (period.start, period.end, str(treatment))


def _day_args(period: DateRange, treatment: TaxTreatment | None) -> tuple[object, ...]:
    return (period.first, period.last) if treatment is None else (period.first, period.last, str(treatment))


def _schema(dimensions: Sequence[Dimension], measures: Schema) -> Schema:
    return {"day": pl.Date, "currency": pl.String, **{d.key: pl.String for d in dimensions}, **measures}


def _aggregate(at: str, measures: str, tables: str, dimensions: Sequence[Dimension], only: str) -> str:
    """``SELECT day, currency, dimensions…, measures … GROUP BY``: every fragment comes from this module or the
    fixed ``DIMENSIONS`` registry, every value is a ``$n`` parameter."""
    return (
        f"SELECT ({at} AT TIME ZONE 'Europe/Berlin')::date, o.currency{_selects(dimensions)}, {measures} "  # noqa: S608
        f"FROM {tables} WHERE {at} >= $1 AND {at} < $2{only} GROUP BY {_group_by(dimensions)}"
    )


async def daily_sales(
    session: AsyncSession,
    period: DateRange,
    dimensions: Sequence[Dimension] = (),
    locale: str = "en",
    treatment: TaxTreatment | None = None,
) -> pl.DataFrame:
    """Per day paid, currency and dimension: ``orders`` (or ``lines`` sold, when a line dimension splits them)
    and ``net``; ``vat`` and ``gross`` too when only order dimensions split them."""
    if level_of(dimensions) is Level.LINE:
        if any(d.level is Level.ORDER for d in dimensions):
            raise ValueError("line sales split by line dimensions only")
        query = (
            f"SELECT l.day, l.currency{_selects(dimensions)}, sum(l.lines), sum(l.net) "  # noqa: S608
            f"FROM ({SALES_LINE_DAYS}) l {LINE_JOINS.replace('LEFT ', '')} WHERE l.day >= $1 AND l.day <= $2"
            f"{_only(treatment, 'l')} GROUP BY {_group_by(dimensions)}"
        )
        schema = _schema(dimensions, {"lines": pl.Int64, "net": MONEY})
    else:
        query = (
            f"SELECT o.day, o.currency{_selects(dimensions)}, sum(o.orders), sum(o.net), sum(o.tax), sum(o.gross) "  # noqa: S608
            f"FROM ({SALES_DAYS}) o WHERE o.day >= $1 AND o.day <= $2{_only(treatment)} "
            f"GROUP BY {_group_by(dimensions)}"
        )
        schema = _schema(dimensions, {"orders": pl.Int64, "net": MONEY, "vat": MONEY, "gross": MONEY})
    frame = await copy_frame(session, query, _day_args(period, treatment), schema)
    return await named(session, frame, dimensions, locale)


async def daily_refunds(
    session: AsyncSession,
    period: DateRange,
    dimensions: Sequence[Dimension] = (),
    locale: str = "en",
    treatment: TaxTreatment | None = None,
) -> pl.DataFrame:
    """Per day refunded, currency and dimension: ``refunds`` (count), ``refunds_net``, ``refunds_vat`` and
    ``refunds_gross``."""
    schema = _schema(
        dimensions,
        {"refunds": pl.Int64, "refunds_net": MONEY, "refunds_vat": MONEY, "refunds_gross": MONEY},
    )
    if level_of(dimensions) is Level.LINE:
        net = "round(r.amount * o.net / NULLIF(o.gross, 0), 2)"
        measures = f"count(*), sum({net}), sum(r.amount - {net}), sum(r.amount)"
        tables = (
            "refund r JOIN payment p ON p.id = r.payment_id JOIN orders o ON o.id = p.order_id "
            f"LEFT JOIN order_line l ON l.id = r.order_line_id {LINE_JOINS}"
        )
        query = _aggregate(
            "r.updated_at", measures, tables, dimensions, f" AND r.status = 'succeeded'{_only(treatment)}"
        )
        args = _args(period, treatment)
    else:
        query = (
            f"SELECT o.day, o.currency{_selects(dimensions)}, sum(o.refunds), sum(o.refunds_net), "  # noqa: S608
            f"sum(o.refunds_gross - o.refunds_net), sum(o.refunds_gross) FROM ({SALES_DAYS}) o "
            f"WHERE o.day >= $1 AND o.day <= $2 AND o.refunds <> 0{_only(treatment)} GROUP BY {_group_by(dimensions)}"
        )
        args = _day_args(period, treatment)
    frame = await copy_frame(session, query, args, schema)
    return await named(session, frame, dimensions, locale)
