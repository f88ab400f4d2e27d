"""Revenue per Berlin day, kept exact as orders are paid, so reports read hundreds of rows instead of millions.

A trigger on ``orders`` (migration 0017) writes a :class:`~app.analytics.models.SalesDayChange` row in the same
transaction whenever an order becomes paid, or a paid order's amounts or facts change (the old values out, the
new ones in). Folding moves the changes into :class:`~app.analytics.models.SalesDay` in one statement: the
``DELETE … RETURNING`` takes exactly the rows it sums, so a change committed meanwhile waits for the next fold
and two folds at once never count a change twice.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

FACTS = "day, currency, buyer_country, buyer_is_business, source, tax_treatment, tax_rate"
MEASURES = "orders, net, tax, gross"

FOLD_SQL = f"""
WITH folded AS (DELETE FROM sales_day_change RETURNING {FACTS}, {MEASURES})
INSERT INTO sales_day AS total ({FACTS}, {MEASURES})
SELECT {FACTS}, sum(orders), sum(net), sum(tax), sum(gross) FROM folded GROUP BY {FACTS}
ON CONFLICT ({FACTS}) DO UPDATE SET orders = total.orders + excluded.orders, net = total.net + excluded.net,
    tax = total.tax + excluded.tax, gross = total.gross + excluded.gross
"""

# Every paid order, folded afresh (after a bulk load that bypassed the trigger).
REBUILD_SQL = f"""
INSERT INTO sales_day ({FACTS}, {MEASURES})
SELECT (paid_at AT TIME ZONE 'Europe/Berlin')::date, currency, buyer_country, buyer_is_business, source,
       tax_treatment, tax_rate, count(*), sum(net), sum(tax), sum(gross)
FROM orders WHERE paid_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7
"""

# What reports read: the folded totals and the changes not folded yet, as one relation.
SALES_DAYS = f"SELECT {FACTS}, {MEASURES} FROM sales_day UNION ALL SELECT {FACTS}, {MEASURES} FROM sales_day_change"


async def fold_sales_day_changes(session: AsyncSession) -> int:
    """Fold the pending changes into the daily totals; the number of day rows written."""
    return (await session.execute(sa.text(FOLD_SQL))).rowcount  # type: ignore[attr-defined, no-any-return]
