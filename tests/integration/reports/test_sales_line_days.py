"""The daily line totals stay exact: after every kind of change they equal the lines of paid orders counted afresh."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.models import SalesLineDayChange
from app.analytics.sales_line_days import SALES_LINE_DAYS, fold_sales_line_day_changes
from app.orders.models import Order, OrderLine
from tests import factories
from tests.integration.reports.conftest import History, berlin

KEPT = (
    f"SELECT day, currency, tax_treatment, service_id, provider_id, sum(lines), sum(uncharged_lines), sum(net), "
    f"sum(charge) FROM ({SALES_LINE_DAYS}) k GROUP BY 1, 2, 3, 4, 5 "
    "HAVING sum(lines) <> 0 OR sum(uncharged_lines) <> 0 OR sum(net) <> 0 OR sum(charge) <> 0"
)
AFRESH = (
    "SELECT (o.paid_at AT TIME ZONE 'Europe/Berlin')::date, o.currency, o.tax_treatment, l.service_id, "
    "l.provider_id, count(*), count(*) FILTER (WHERE l.charge IS NULL), sum(l.net), coalesce(sum(l.charge), 0) "
    "FROM order_line l JOIN orders o ON o.id = l.order_id WHERE o.paid_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
)


async def _rows(session: AsyncSession, query: str) -> set[tuple[object, ...]]:
    return set((await session.execute(sa.text(query))).tuples().all())


async def _assert_exact(session: AsyncSession) -> None:
    afresh = await _rows(session, AFRESH)
    assert afresh
    assert await _rows(session, KEPT) == afresh
    await fold_sales_line_day_changes(session)
    await session.commit()
    assert await session.scalar(sa.select(sa.func.count()).select_from(SalesLineDayChange)) == 0
    assert await _rows(session, KEPT) == afresh


async def test_line_totals_equal_the_lines_counted_afresh_after_every_kind_of_change(history: History) -> None:
    session = history.session
    await _assert_exact(session)
    orders = (await session.scalars(sa.select(Order).order_by(Order.id))).all()
    a, b, c, d, unpaid = orders
    first_line = {
        o.id: await session.scalar(sa.select(OrderLine).where(OrderLine.order_id == o.id).order_by(OrderLine.id))
        for o in orders
    }
    provider = await factories.provider(session)
    # Backdated: a paid order moved to another day, another currency, another tax treatment.
    await session.execute(sa.update(Order).where(Order.id == a.id).values(paid_at=berlin(2026, 9, 30, 23, 59)))
    await session.execute(
        sa.update(Order).where(Order.id == d.id).values(currency="EUR", tax_treatment="reverse_charge")
    )
    # A line's net, service and charge changed, a line moved to an unpaid order, a line added to a paid order.
    await session.execute(sa.update(OrderLine).where(OrderLine.id == first_line[b.id].id).values(net=Decimal("17.50")))
    await session.execute(
        sa.update(OrderLine).where(OrderLine.id == first_line[c.id].id).values(service_id=first_line[a.id].service_id)
    )
    await session.execute(
        sa.update(OrderLine)
        .where(OrderLine.id == first_line[a.id].id)
        .values(provider_id=provider.id, charge=Decimal("1.23456"))
    )
    await session.execute(
        sa.update(OrderLine)
        .where(OrderLine.id == first_line[b.id].id)
        .values(provider_id=provider.id, charge=Decimal("2.5"))
    )
    await session.execute(
        sa.update(OrderLine).where(OrderLine.id == first_line[d.id].id).values(order_id=unpaid.id, position=2)
    )
    service = await factories.reload_service(session, first_line[a.id].service_id)
    extra = await factories.paid_order(session, items=[(service, 2000, "https://www.instagram.com/p/extra/")])
    await session.execute(sa.update(OrderLine).where(OrderLine.order_id == extra.id).values(order_id=b.id, position=2))
    # Paid late, and a paid order no longer paid.
    await session.execute(sa.update(Order).where(Order.id == unpaid.id).values(paid_at=berlin(2026, 12, 24, 8)))
    await session.execute(sa.update(Order).where(Order.id == c.id).values(paid_at=None))
    # Refunds and cancellations leave the sales where they are.
    await factories.succeeded_refund(session, b, first_line[b.id], Decimal("2.38"), at=berlin(2026, 12, 5, 9))
    await session.commit()
    await _assert_exact(session)
