"""Line sales per Berlin day, service and provider, kept exact as orders are paid, so line reports read thousands
of rows instead of millions.

Triggers on ``orders`` and ``order_line`` (migration 0032) write :class:`~app.analytics.models.SalesLineDayChange`
rows in the same transaction whenever a paid order's lines change (added, removed, another service, provider,
net or provider's charge) or a paid order's day, currency or tax treatment changes (its lines out under the old
facts, in under the new). Folding moves the changes into :class:`~app.analytics.models.SalesLineDay` in one
statement, as :mod:`app.analytics.sales_days` folds the order totals: the ``DELETE … RETURNING`` takes exactly
the rows it sums.

Refunds are not here: there are few of them, and the reports read them from the refunds themselves.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

FACTS = "day, currency, tax_treatment, service_id, provider_id"
MEASURES = "lines, uncharged_lines, net, charge"

FOLD_SQL = f"""
WITH folded AS (DELETE FROM sales_line_day_change RETURNING {FACTS}, {MEASURES})
INSERT INTO sales_line_day AS total ({FACTS}, {MEASURES})
SELECT {FACTS}, sum(lines), sum(uncharged_lines), sum(net), sum(charge) FROM folded GROUP BY {FACTS}
ON CONFLICT ({FACTS}) DO UPDATE SET lines = total.lines + excluded.lines,
    uncharged_lines = total.uncharged_lines + excluded.uncharged_lines, net = total.net + excluded.net,
    charge = total.charge + excluded.charge
"""

# Every line of a paid order, counted afresh (after a bulk load that bypassed the triggers).
REBUILD_SQL = f"""
INSERT INTO sales_line_day ({FACTS}, {MEASURES})
SELECT (o.paid_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.tax_treatment, l.service_id, l.provider_id,
       count(*), count(*) FILTER (WHERE l.charge IS NULL), sum(l.net), coalesce(sum(l.charge), 0)
FROM order_line l JOIN orders o ON o.id = l.order_id WHERE o.paid_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
"""

# What reports read: the folded totals and the changes not folded yet, as one relation.
SALES_LINE_DAYS = (
    f"SELECT {FACTS}, {MEASURES} FROM sales_line_day UNION ALL SELECT {FACTS}, {MEASURES} FROM sales_line_day_change"
)


async def fold_sales_line_day_changes(session: AsyncSession) -> int:
    """Fold the pending changes into the daily line totals; the number of day rows written."""
    return (await session.execute(sa.text(FOLD_SQL))).rowcount  # type: ignore[attr-defined, no-any-return]
