"""Figures for the back-office dashboard, computed in SQL here and only displayed by the admin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.sales_days import SALES_DAYS
from app.fulfillment.alerts import RecentAlert, recent_alerts
from app.fulfillment.attention import Attention, WorkerHealth, attention_counts, worker_health
from app.fulfillment.models import Provider
from app.i18n import BERLIN, N_
from app.orders.models import OrderStatusTally
from app.orders.states import OrderStatus
from app.payments.models import StripeEvent


@dataclass(frozen=True)
class Revenue:
    label: str
    orders: int
    net: Decimal
    gross: Decimal
    currency: str = "EUR"


@dataclass(frozen=True)
class FailedJob:
    id: int
    task: str
    queue: str
    attempts: int
    at: datetime | None


@dataclass(frozen=True)
class Dashboard:
    revenue: Sequence[Revenue]
    orders_by_status: dict[str, int]
    attention: dict[Attention, int]
    worker: WorkerHealth
    providers: Sequence[Provider]
    failed_jobs: Sequence[FailedJob]
    failed_webhooks: Sequence[StripeEvent]
    alerts: Sequence[RecentAlert]


def berlin_today(now: datetime) -> date:
    return now.astimezone(BERLIN).date()


async def revenues(session: AsyncSession, periods: Sequence[tuple[str, date]]) -> list[Revenue]:
    """Euro sales from each period's first Berlin day through today, as the revenue report counts them: orders
    paid on those days, net and gross less the refunds made on those days (``net_after_refunds``,
    ``gross_after_refunds``), read off the daily totals (:data:`~app.analytics.sales_days.SALES_DAYS`) in one pass
    over at most the longest period's days."""
    sums = ", ".join(
        f"coalesce(sum(orders) FILTER (WHERE day >= :since_{i}), 0), "
        f"coalesce(sum(net - refunds_net) FILTER (WHERE day >= :since_{i}), 0), "
        f"coalesce(sum(gross - refunds_gross) FILTER (WHERE day >= :since_{i}), 0)"
        for i in range(len(periods))
    )
    since = {f"since_{i}": first for i, (_label, first) in enumerate(periods)}
    query = f"SELECT {sums} FROM ({SALES_DAYS}) s WHERE day >= :earliest AND currency = 'EUR'"  # noqa: S608
    row = (await session.execute(sa.text(query), {**since, "earliest": min(since.values())})).one()
    return [
        Revenue(label, int(row[3 * i]), Decimal(row[3 * i + 1]), Decimal(row[3 * i + 2]))
        for i, (label, _first) in enumerate(periods)
    ]


async def orders_by_status(session: AsyncSession) -> dict[str, int]:
    """Exact counts from the tally the database keeps (OrderStatusTally): no pass over the orders."""
    rows = (
        await session.execute(
            sa.select(OrderStatusTally.status, sa.func.sum(OrderStatusTally.delta)).group_by(OrderStatusTally.status)
        )
    ).all()
    counts = {status.value: 0 for status in OrderStatus}
    counts.update({OrderStatus(status).value: int(n) for status, n in rows if n})
    return counts


async def failed_jobs(session: AsyncSession, limit: int = 10) -> list[FailedJob]:
    rows = (
        await session.execute(
            sa.text(
                "SELECT j.id, j.task_name, j.queue_name, j.attempts, max(e.at) AS at FROM procrastinate_jobs j "
                "LEFT JOIN procrastinate_events e ON e.job_id = j.id "
                "WHERE j.status = 'failed' GROUP BY j.id ORDER BY max(e.at) DESC NULLS LAST, j.id DESC LIMIT :limit"
            ),
            {"limit": limit},
        )
    ).all()
    return [FailedJob(id=r[0], task=r[1], queue=r[2], attempts=r[3], at=r[4]) for r in rows]


async def build_dashboard(session: AsyncSession, *, stuck_after: timedelta, now: datetime | None = None) -> Dashboard:
    now = now or datetime.now(UTC)
    today = berlin_today(now)
    revenue = await revenues(
        session,
        [
            (N_("Today"), today),
            (N_("Last 7 days"), today - timedelta(days=6)),
            (N_("Last 30 days"), today - timedelta(days=29)),
        ],
    )
    providers = (
        await session.scalars(sa.select(Provider).where(Provider.is_active.is_(True)).order_by(Provider.name))
    ).all()
    webhooks = (
        await session.scalars(
            sa.select(StripeEvent)
            .where(StripeEvent.error.is_not(None))
            .order_by(StripeEvent.received_at.desc())
            .limit(10)
        )
    ).all()
    return Dashboard(
        revenue=revenue,
        orders_by_status=await orders_by_status(session),
        attention=await attention_counts(session, now=now, stuck_after=stuck_after),
        worker=await worker_health(session, now=now),
        providers=providers,
        failed_jobs=await failed_jobs(session),
        failed_webhooks=webhooks,
        alerts=await recent_alerts(session, now=now),
    )
