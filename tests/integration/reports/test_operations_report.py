"""The operations report: per provider, how many lines ended how, how fast, and how many without staff."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import ActorKind
from app.fulfillment.models import RefillRequest
from app.orders.models import EventKind, Order, OrderEvent, OrderLine
from app.orders.states import LineStatus
from reports.catalog import REPORTS
from reports.periods import DateRange
from reports.revenue import Selection
from tests import factories

PAID = datetime(2026, 11, 10, 10, tzinfo=ZoneInfo("Europe/Berlin"))
NOVEMBER = DateRange(date(2026, 11, 1), date(2026, 11, 30))


async def _line(session: AsyncSession, status: LineStatus, dispatch_min: int | None, finish_h: int | None) -> OrderLine:
    order = await factories.paid_order(session)
    line = order.lines[0]
    await session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=PAID))
    await session.execute(
        sa.update(OrderLine)
        .where(OrderLine.id == line.id)
        .values(
            fulfillment_status=status,
            dispatched_at=PAID + timedelta(minutes=dispatch_min) if dispatch_min is not None else None,
            finished_at=PAID + timedelta(hours=finish_h) if finish_h is not None else None,
        )
    )
    return line


async def test_operations_per_provider_by_hand(session: AsyncSession) -> None:
    completed_fast = await _line(session, LineStatus.COMPLETED, 2, 2)
    await _line(session, LineStatus.COMPLETED, 4, 6)
    await _line(session, LineStatus.PARTIAL, 10, 12)
    held = await _line(session, LineStatus.ON_HOLD, None, None)
    session.add_all(
        [
            OrderEvent(order_id=held.order_id, line_id=held.id, kind=EventKind.NOTE, actor_kind=ActorKind.STAFF),
            RefillRequest(order_line_id=completed_fast.id, requested_by="test"),
        ]
    )
    await session.commit()

    frame = await REPORTS["operations"].build(session, Selection(NOVEMBER, None), str)

    assert frame.columns[:6] == ["provider", "lines", "completed", "partial", "canceled", "open_issues"]
    ((provider, lines, completed, partial, canceled, issues, *rest),) = frame.rows()
    assert (provider, lines, completed, partial, canceled, issues) == ("manual", 4, 2, 1, 0, 1)
    dispatch, completion, shares = rest[:3], rest[3:6], rest[6:]
    # Dispatch after 2, 4 and 10 minutes (the held line never went): median 4; p90 = 4 + 0.8 * 6 = 8.8.
    assert dispatch[:2] == [Decimal("4.0"), Decimal("8.8")]
    # Completed lines only: 2 h and 6 h; median 4; p90 = 2 + 0.9 * 4 = 5.6.
    assert completion[:2] == [Decimal("4.0"), Decimal("5.6")]
    # 3 of 4 lines without staff, 1 of 4 partial, 1 of 4 refilled.
    assert shares == [Decimal("75.0"), Decimal("25.0"), Decimal("25.0")]
