"""The operations report's line facts stay exact as orders, lines, events and refill requests change, and the report
read from them equals the report computed from the orders and lines themselves."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import ActorKind
from app.fulfillment.models import RefillRequest
from app.orders.models import EventKind, Order, OrderEvent, OrderLine
from app.orders.states import LineStatus
from reports.catalog import REPORTS
from reports.periods import DateRange, Grouping
from reports.revenue import Selection
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = DateRange(date(2026, 11, 1), date(2026, 11, 30))
FACTS = (
    "line_id, order_id, paid_at, provider_id, fulfillment_status, dispatched_at, finished_at, dispatch_seconds, "
    "finish_seconds, staff_acted, refilled"
)
# The operations report as it was computed before the line facts: every line joined to its order, events and
# refill requests looked up per line, durations from the timestamps, rounded as the report rounds.
JOINED_REPORT = """
SELECT to_char(week, 'IYYY-"W"IW'), coalesce(name, 'manual'), lines, completed, partial, canceled, open_issues,
       round((dispatch[1] / 60)::numeric, 1), round((dispatch[2] / 60)::numeric, 1),
       round((dispatch[3] / 60)::numeric, 1), round((completion[1] / 3600)::numeric, 1),
       round((completion[2] / 3600)::numeric, 1), round((completion[3] / 3600)::numeric, 1),
       round(automated * 100.0 / lines, 1), round(partial * 100.0 / lines, 1), round(refilled * 100.0 / lines, 1)
FROM (
    SELECT date_trunc('week', o.paid_at AT TIME ZONE 'Europe/Berlin') AS week, p.name, count(*) AS lines,
        count(*) FILTER (WHERE l.fulfillment_status = 'completed') AS completed,
        count(*) FILTER (WHERE l.fulfillment_status = 'partial') AS partial,
        count(*) FILTER (WHERE l.fulfillment_status = 'canceled') AS canceled,
        count(*) FILTER (WHERE l.fulfillment_status IN ('failed', 'on_hold', 'dispatch_unknown', 'needs_review'))
            AS open_issues,
        count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM order_event e WHERE e.line_id = l.id
                                           AND e.actor_kind = 'staff')) AS automated,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM refill_request r WHERE r.order_line_id = l.id)) AS refilled,
        percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM l.dispatched_at - o.paid_at))
            AS dispatch,
        percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM l.finished_at - o.paid_at))
            FILTER (WHERE l.fulfillment_status = 'completed') AS completion
    FROM order_line l JOIN orders o ON o.id = l.order_id LEFT JOIN provider p ON p.id = l.provider_id
    WHERE o.paid_at >= :start AND o.paid_at < :end GROUP BY 1, l.provider_id, p.name
) joined
"""
COLUMNS = (
    "period",
    "provider",
    "lines",
    "completed",
    "partial",
    "canceled",
    "open_issues",
    "dispatch_minutes_p50",
    "dispatch_minutes_p90",
    "dispatch_minutes_p99",
    "completion_hours_p50",
    "completion_hours_p90",
    "completion_hours_p99",
    "automated_percent",
    "partial_percent",
    "refill_percent",
)


def paid(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=BERLIN)


async def _facts(session: AsyncSession) -> list[tuple[object, ...]]:
    rows = await session.execute(sa.text(f"SELECT {FACTS} FROM operations_line ORDER BY line_id"))
    return [tuple(row) for row in rows]


async def _unrolled(session: AsyncSession) -> list[tuple[object, ...]]:
    query = (
        f"SELECT {FACTS} FROM (SELECT l.id AS line_id, l.order_id, o.paid_at, l.provider_id, l.fulfillment_status, "
        "l.dispatched_at, l.finished_at, extract(epoch FROM l.dispatched_at - o.paid_at)::float8 AS dispatch_seconds, "
        "extract(epoch FROM l.finished_at - o.paid_at)::float8 AS finish_seconds, "
        "EXISTS (SELECT 1 FROM order_event e WHERE e.line_id = l.id AND e.actor_kind = 'staff') AS staff_acted, "
        "EXISTS (SELECT 1 FROM refill_request r WHERE r.order_line_id = l.id) AS refilled "
        "FROM order_line l JOIN orders o ON o.id = l.order_id) f ORDER BY line_id"
    )
    return [tuple(row) for row in await session.execute(sa.text(query))]


async def _set_line(session: AsyncSession, line_id: int, **values: object) -> None:
    await session.execute(sa.update(OrderLine).where(OrderLine.id == line_id).values(**values))


async def _history(session: AsyncSession) -> None:
    """Lines of several orders through dispatch and completion, moved between providers, acted on by staff,
    refilled, one order's payment time corrected, one placed order paid afterwards."""
    fast, slow = await factories.provider(session, name="Fast"), await factories.provider(session, name="Slow")
    service = await factories.service(session)
    orders = []
    for day in (3, 4, 10, 11, 12, 20):
        items = [(service, 1000 + 100 * i, f"https://www.instagram.com/p/ops{day}x{i}/") for i in range(3)]
        order = await factories.paid_order(session, items=items)
        await session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=paid(day)))
        orders.append(order)
    later = await factories.place_order(session)
    orders[1] = await factories.paid_order(session)  # paid, then its payment time corrected below
    for n, order in enumerate(orders):
        for i, line in enumerate(order.lines):
            at = paid((3, 11, 10, 11, 12, 20)[n])
            status = (LineStatus.COMPLETED, LineStatus.PARTIAL, LineStatus.ON_HOLD)[(n + i) % 3]
            await _set_line(
                session,
                line.id,
                provider_id=(fast, slow)[(n * 3 + i) % 2].id,
                fulfillment_status=LineStatus.DISPATCHED,
                dispatched_at=at + timedelta(minutes=3 + 7 * n + 5 * i),
            )
            await _set_line(
                session,
                line.id,
                fulfillment_status=status,
                finished_at=at + timedelta(hours=2 + 5 * n + i, minutes=17 * i)
                if status != LineStatus.ON_HOLD
                else None,
            )
    await session.execute(sa.update(Order).where(Order.id == orders[1].id).values(paid_at=paid(11, 8)))
    await _set_line(session, orders[0].lines[0].id, provider_id=slow.id)
    await _set_line(session, orders[2].lines[1].id, provider_id=None)
    session.add_all(
        [
            OrderEvent(
                order_id=orders[0].id, line_id=orders[0].lines[1].id, kind=EventKind.NOTE, actor_kind=ActorKind.STAFF
            ),
            OrderEvent(
                order_id=orders[0].id, line_id=orders[0].lines[1].id, kind=EventKind.NOTE, actor_kind=ActorKind.STAFF
            ),
            OrderEvent(
                order_id=orders[3].id, line_id=orders[3].lines[2].id, kind=EventKind.NOTE, actor_kind=ActorKind.SYSTEM
            ),
            OrderEvent(order_id=orders[4].id, line_id=None, kind=EventKind.NOTE, actor_kind=ActorKind.STAFF),
            RefillRequest(order_line_id=orders[2].lines[0].id, requested_by="test"),
            RefillRequest(order_line_id=orders[5].lines[2].id, requested_by="test"),
        ]
    )
    await session.flush()
    await session.execute(sa.update(Order).where(Order.id == later.order.id).values(paid_at=paid(25)))
    await session.commit()


async def test_the_line_facts_equal_the_lines_orders_events_and_refills_after_every_kind_of_change(
    session: AsyncSession, clean_db: str
) -> None:
    await _history(session)

    facts = await _facts(session)

    assert facts == await _unrolled(session)
    assert len(facts) == 6 * 3 + 1 + 1  # six orders of three lines, two of one line
    assert sum(1 for row in facts if row[9]) == 1 and sum(1 for row in facts if row[10]) == 2


async def test_the_operations_report_equals_the_report_joined_from_the_lines_themselves(
    session: AsyncSession, clean_db: str
) -> None:
    await _history(session)

    frame = await REPORTS["operations"].build(session, Selection(NOVEMBER, Grouping.WEEK), str)

    rows = await session.execute(sa.text(JOINED_REPORT), {"start": NOVEMBER.start, "end": NOVEMBER.end})

    assert sorted(frame.select(COLUMNS).rows()) == sorted(tuple(row) for row in rows)
    assert frame.height >= 6
    assert frame.select(pl.col("refill_percent").gt(0).any(), pl.col("automated_percent").lt(100).any()).row(0) == (
        True,
        True,
    )
