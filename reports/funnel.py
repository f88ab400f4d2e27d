"""The storefront funnel: landing view → service view → checkout started → paid, in distinct visitors.

A visitor is the random id of the storefront's first-party cookie (``app/analytics/funnel.py``); "paid" carries
the id of the visitor who started that checkout. Visitors are counted distinct per bucket (a visitor seen on
Monday and Tuesday is one visitor of that week), exactly, from the daily counts kept by a trigger
(``app/analytics/funnel_days.py``): each visitor counts on their first day in the bucket. Events without a
visitor id count nowhere; a bucket with no visitor at all has no row.

Columns: ``period`` (unless the range is one bucket), [``service``,] ``landing_visitors`` (overall only),
``service_visitors``, ``checkout_visitors``, ``paid_visitors``, ``checkout_percent`` (of service visitors),
``payment_percent`` (of checkouts), ``conversion_percent`` (paid of landing visitors overall, of service
visitors per service).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.funnel_days import FUNNEL_DAYS
from app.analytics.models import FunnelKind
from reports.datasets import DIMENSIONS, named
from reports.load import copy_frame
from reports.periods import period_column
from reports.revenue import Selection, percent

STEPS = {
    FunnelKind.LANDING_VIEW: "landing_visitors",
    FunnelKind.SERVICE_VIEW: "service_visitors",
    FunnelKind.CHECKOUT_STARTED: "checkout_visitors",
    FunnelKind.PAID: "paid_visitors",
}


async def funnel(session: AsyncSession, selection: Selection, *, by_service: bool = False) -> pl.DataFrame:
    grouping, period = selection.grouping, selection.period
    bucket = f"date_trunc('{grouping.value}', f.day::timestamp)::date" if grouping else "$3::date"
    service = "f.service_id::text" if by_service else "NULL::text"
    query = (
        f"SELECT {bucket}, f.kind, {service}, sum(f.visitors) FROM ({FUNNEL_DAYS}) f "  # noqa: S608 - constants
        f"WHERE f.by_service = {str(by_service).lower()} AND f.day >= $1 AND f.day <= $2 AND f.prev_day < {bucket} "
        "GROUP BY 1, 2, 3 HAVING sum(f.visitors) > 0"
    )
    args = (period.first, period.last) if grouping else (period.first, period.last, period.first)
    schema = {"period_start": pl.Date, "kind": pl.String, "service": pl.String, "visitors": pl.Int64}
    events = await named(session, await copy_frame(session, query, args, schema), [DIMENSIONS["service"]], "en")
    if by_service:
        events = events.filter(pl.col("kind") != FunnelKind.LANDING_VIEW)
    keys = ["period_start", *(["service"] if by_service else [])]
    steps = [name for kind, name in STEPS.items() if not (by_service and kind is FunnelKind.LANDING_VIEW)]
    frame = events.with_columns(pl.col("kind").replace_strict({k.value: v for k, v in STEPS.items()})).pivot(
        on="kind", index=keys, values="visitors", aggregate_function="sum"
    )
    frame = frame.with_columns(
        pl.col(name).fill_null(0) if name in frame.columns else pl.lit(0, pl.Int64).alias(name) for name in steps
    ).sort(keys)
    first_step = "service_visitors" if by_service else "landing_visitors"
    frame = frame.with_columns(
        checkout_percent=percent("checkout_visitors", "service_visitors"),
        payment_percent=percent("paid_visitors", "checkout_visitors"),
        conversion_percent=percent("paid_visitors", first_step),
    )
    rates = ("checkout_percent", "payment_percent", "conversion_percent")
    return frame.select(*period_column(selection.grouping), *keys[1:], *steps, *rates)
