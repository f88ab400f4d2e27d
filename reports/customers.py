"""Customers: who buys for the first time and who comes back, and who is worth most over time.

``customers`` (per bucket, by the Berlin day of payment): ``active_customers`` (paid at least once in the
bucket), ``new_customers`` (their first paid order ever is in the bucket), ``returning_customers`` (bought
before the bucket), ``returning_percent``, ``orders``, ``net`` (euros only: amounts in other currencies are not
added in).

``top-customers`` (over the range): the 100 customers with the highest net after refunds of orders paid in the
range, with ``email``, ``name``, ``country``, ``orders``, ``net``, ``refunds_net``, ``net_after_refunds``,
``first_paid`` and ``last_paid`` (Berlin days).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Translate
from reports.datasets import MONEY
from reports.load import Schema, copy_frame
from reports.periods import bucket_args, bucket_sql, period_column
from reports.revenue import Selection, percent

TOP = 100
BERLIN_DAY = "({} AT TIME ZONE 'Europe/Berlin')::date"


async def customers(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    # New in the bucket: first paid in it (the whole range as one bucket: first paid within the range).
    first = "f.first_paid_at"
    new = f"{bucket_sql(selection.grouping, first)} = a.period_start" if selection.grouping else f"{first} >= $1"
    # Each customer's orders per bucket first (a hash aggregate), then the customers: distinct counts need no sort.
    active = (
        f"SELECT {bucket_sql(selection.grouping, 'o.paid_at')} AS period_start, o.customer_id, count(*) AS orders, "  # noqa: S608
        "coalesce(sum(o.net) FILTER (WHERE o.currency = 'EUR'), 0) AS net "
        "FROM orders o WHERE o.paid_at >= $1 AND o.paid_at < $2 GROUP BY 1, 2"
    )
    query = (
        f"SELECT a.period_start, count(*), count(*) FILTER (WHERE {new}), sum(a.orders), sum(a.net) "  # noqa: S608
        f"FROM ({active}) a JOIN customer f ON f.id = a.customer_id GROUP BY 1"
    )
    args = bucket_args(selection.period, selection.grouping)
    schema: Schema = {
        "period_start": pl.Date,
        "active_customers": pl.Int64,
        "new_customers": pl.Int64,
        "orders": pl.Int64,
        "net": MONEY,
    }
    frame = (await copy_frame(session, query, args, schema)).sort("period_start")
    frame = frame.with_columns(returning_customers=pl.col("active_customers") - pl.col("new_customers"))
    frame = frame.with_columns(returning_percent=percent("returning_customers", "active_customers"))
    return frame.select(
        *period_column(selection.grouping),
        "active_customers",
        "new_customers",
        "returning_customers",
        "returning_percent",
        "orders",
        "net",
    )


async def top_customers(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    net_share = "round(r.amount * o.net / NULLIF(o.gross, 0), 2)"
    query = (
        "SELECT c.email, c.name, c.country, s.orders, s.net, coalesce(x.refunds_net, 0), "  # noqa: S608
        f"s.net - coalesce(x.refunds_net, 0), {BERLIN_DAY.format('s.first_paid')}, "
        f"{BERLIN_DAY.format('s.last_paid')} "
        "FROM (SELECT customer_id, count(*) AS orders, sum(net) AS net, min(paid_at) AS first_paid, "
        "max(paid_at) AS last_paid FROM orders WHERE paid_at >= $1 AND paid_at < $2 AND currency = 'EUR' "
        "GROUP BY customer_id) s "
        f"LEFT JOIN (SELECT o.customer_id, sum({net_share}) AS refunds_net FROM refund r "
        "JOIN payment p ON p.id = r.payment_id JOIN orders o ON o.id = p.order_id "
        "WHERE r.status = 'succeeded' AND o.paid_at >= $1 AND o.paid_at < $2 AND o.currency = 'EUR' "
        "GROUP BY o.customer_id) x ON x.customer_id = s.customer_id "
        "JOIN customer c ON c.id = s.customer_id "
        f"ORDER BY 7 DESC, c.email LIMIT {TOP}"
    )
    schema: Schema = {
        "email": pl.String,
        "name": pl.String,
        "country": pl.String,
        "orders": pl.Int64,
        "net": MONEY,
        "refunds_net": MONEY,
        "net_after_refunds": MONEY,
        "first_paid": pl.Date,
        "last_paid": pl.Date,
    }
    period = selection.period
    return await copy_frame(session, query, (period.start, period.end), schema)
