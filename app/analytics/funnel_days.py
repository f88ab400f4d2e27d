"""Distinct funnel visitors per Berlin day and step, kept exact as events arrive, so the funnel reads thousands of
rows instead of millions of events, for any bucket.

Distinct counts do not add up across days, so a row counts the visitors seen on ``day`` at step ``kind`` whose
previous day at that step was ``prev_day`` (``-infinity``: never before); ``by_service`` rows follow a visitor
per service, the others over all services. A visitor belongs to a bucket's count once, on their first day in
it: the row whose ``prev_day`` lies before the bucket's first day. So ``sum(visitors) WHERE prev_day < start of
the day's bucket`` is the exact distinct count of a day, week, month, quarter or any range.

A trigger on ``funnel_event`` (migration 0032) writes :class:`~app.analytics.models.FunnelDayChange` rows as the
event is inserted, one visitor at a time (an advisory lock on the visitor): the day gets the visitor unless it
had them already, and a later day of theirs now has this day as its previous one. Events without a visitor are
not counted (as ``count(DISTINCT visitor_id)`` ignores them); events are never changed or deleted. Folding moves
the changes into :class:`~app.analytics.models.FunnelDay` as :mod:`app.analytics.sales_days` folds its changes.
"""

# ruff: noqa: S608 - the SQL is built from this module's constants only
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

FACTS = "by_service, day, kind, service_id, prev_day"

FOLD_SQL = f"""
WITH folded AS (DELETE FROM funnel_day_change RETURNING {FACTS}, visitors)
INSERT INTO funnel_day AS total ({FACTS}, visitors)
SELECT {FACTS}, sum(visitors) FROM folded GROUP BY {FACTS}
ON CONFLICT ({FACTS}) DO UPDATE SET visitors = total.visitors + excluded.visitors
"""


def _seen(by_service: bool) -> str:
    """Each visitor's days at each step (per service, or over all), with the day before at that step."""
    service = "service_id" if by_service else "NULL::bigint"
    chain = "visitor_id, kind, service_id" if by_service else "visitor_id, kind"
    return (
        f"SELECT {str(by_service).lower()}, day, kind, {service}, "
        f"coalesce(lag(day) OVER (PARTITION BY {chain} ORDER BY day), '-infinity') "
        f"FROM (SELECT DISTINCT (at AT TIME ZONE 'Europe/Berlin')::date AS day, {chain} FROM funnel_event "
        "WHERE visitor_id IS NOT NULL) seen"
    )


# Every event, counted afresh (after a bulk load that bypassed the trigger).
REBUILD_SQL = f"""
INSERT INTO funnel_day ({FACTS}, visitors)
SELECT {FACTS}, count(*) FROM ({_seen(False)} UNION ALL {_seen(True)}) AS seen ({FACTS})
GROUP BY 1, 2, 3, 4, 5
"""

# What the funnel report reads: the folded counts and the changes not folded yet, as one relation.
FUNNEL_DAYS = f"SELECT {FACTS}, visitors FROM funnel_day UNION ALL SELECT {FACTS}, visitors FROM funnel_day_change"


async def fold_funnel_day_changes(session: AsyncSession) -> int:
    """Fold the pending changes into the daily visitor counts; the number of rows written."""
    return (await session.execute(sa.text(FOLD_SQL))).rowcount  # type: ignore[attr-defined, no-any-return]
