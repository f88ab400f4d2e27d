"""Revenue per Berlin day, kept exact as orders are paid, so reports read hundreds of rows instead of millions.

A trigger on ``orders`` (migration 0017) writes a :class:`~app.analytics.models.SalesDayChange` row in the same
transaction whenever an order becomes paid, or a paid order's amounts or facts change (the old values out, the
new ones in); a trigger on ``refund`` does the same when a refund succeeds, on that day, under the facts of its
order, with the order's net share of the amount (rounded half-up to the cent, what the credit note reverses).
Folding moves the changes into :class:`~app.analytics.models.SalesDay` in one statement: the
``DELETE … RETURNING`` takes exactly the rows it sums, so a change committed meanwhile waits for the next fold
and two folds at once never count a change twice.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

FACTS = "day, currency, buyer_country, buyer_is_business, source, tax_treatment, tax_rate"
MEASURES = "orders, net, tax, gross, refunds, refunds_net, refunds_gross"

FOLD_SQL = f"""
WITH folded AS (DELETE FROM sales_day_change RETURNING {FACTS}, {MEASURES})
INSERT INTO sales_day AS total ({FACTS}, {MEASURES})
SELECT {FACTS}, sum(orders), sum(net), sum(tax), sum(gross), sum(refunds), sum(refunds_net), sum(refunds_gross)
FROM folded GROUP BY {FACTS}
ON CONFLICT ({FACTS}) DO UPDATE SET orders = total.orders + excluded.orders, net = total.net + excluded.net,
    tax = total.tax + excluded.tax, gross = total.gross + excluded.gross, refunds = total.refunds + excluded.refunds,
    refunds_net = total.refunds_net + excluded.refunds_net, refunds_gross = total.refunds_gross + excluded.refunds_gross
"""

# Every paid order and succeeded refund, counted afresh (after a bulk load that bypassed the triggers).
REBUILD_SQL = f"""
INSERT INTO sales_day ({FACTS}, {MEASURES})
SELECT day, currency, buyer_country, buyer_is_business, source, tax_treatment, tax_rate, sum(orders), sum(net),
       sum(tax), sum(gross), sum(refunds), sum(refunds_net), sum(refunds_gross)
FROM (
    SELECT (paid_at AT TIME ZONE 'Europe/Berlin')::date AS day, currency, buyer_country, buyer_is_business, source,
           tax_treatment, tax_rate, 1 AS orders, net, tax, gross, 0 AS refunds, 0 AS refunds_net, 0 AS refunds_gross
    FROM orders WHERE paid_at IS NOT NULL
    UNION ALL
    SELECT (r.updated_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.buyer_country, o.buyer_is_business,
           o.source, o.tax_treatment, o.tax_rate, 0, 0, 0, 0, 1, round(r.amount * o.net / NULLIF(o.gross, 0), 2),
           r.amount
    FROM refund r JOIN payment p ON p.id = r.payment_id JOIN orders o ON o.id = p.order_id
    WHERE r.status = 'succeeded'
) AS facts
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""

# What reports read: the folded totals and the changes not folded yet, as one relation.
SALES_DAYS = f"SELECT {FACTS}, {MEASURES} FROM sales_day UNION ALL SELECT {FACTS}, {MEASURES} FROM sales_day_change"


async def fold_sales_day_changes(session: AsyncSession) -> int:
    """Fold the pending changes into the daily totals; the number of day rows written."""
    return (await session.execute(sa.text(FOLD_SQL))).rowcount  # type: ignore[attr-defined, no-any-return]
