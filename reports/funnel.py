"""The storefront funnel: landing view → service view → checkout started → paid, in distinct visitors.

A visitor is the random id of the storefront's first-party cookie (``app/analytics/funnel.py``); "paid" carries
the id of the visitor who started that checkout. Visitors are counted distinct per bucket, so the buckets are
cut in SQL (a visitor seen on Monday and Tuesday is one visitor of that week).

Columns: ``period`` (unless the range is one bucket), [``service``,] ``landing_visitors`` (overall only),
``service_visitors``, ``checkout_visitors``, ``paid_visitors``, ``checkout_percent`` (of service visitors),
``payment_percent`` (of checkouts), ``conversion_percent`` (paid of landing visitors overall, of service
visitors per service).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.models import FunnelKind
from reports.datasets import DIMENSIONS, named
from reports.load import copy_frame
from reports.periods import bucket_args, bucket_sql, period_column
from reports.revenue import Selection, percent

STEPS = {
    FunnelKind.LANDING_VIEW: "landing_visitors",
    FunnelKind.SERVICE_VIEW: "service_visitors",
    FunnelKind.CHECKOUT_STARTED: "checkout_visitors",
    FunnelKind.PAID: "paid_visitors",
}


async def funnel(session: AsyncSession, selection: Selection, *, by_service: bool = False) -> pl.DataFrame:
    bucket = bucket_sql(selection.grouping, "at")
    service = "service_id::text" if by_service else "NULL::text"
    query = (
        f"SELECT {bucket}, kind, {service}, count(DISTINCT visitor_id) FROM funnel_event "  # noqa: S608 - constants
        "WHERE at >= $1 AND at < $2 GROUP BY 1, 2, 3"
    )
    args = bucket_args(selection.period, selection.grouping)
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
