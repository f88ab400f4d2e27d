"""Figures for the back-office dashboard, computed in SQL here and only displayed by the admin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfillment.alerts import RecentAlert, recent_alerts
from app.fulfillment.attention import Attention, WorkerHealth, attention_counts, worker_health
from app.fulfillment.models import Provider
from app.i18n import BERLIN, N_
from app.orders.models import Order, OrderStatusTally
from app.orders.states import OrderStatus, PaymentStatus
from app.payments.models import StripeEvent

COLLECTED = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.DISPUTED)


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


def berlin_midnight(now: datetime) -> datetime:
    local = now.astimezone(BERLIN)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


async def revenues(session: AsyncSession, periods: Sequence[tuple[str, datetime]]) -> list[Revenue]:
    """Orders paid (and not refunded) since each period's start, in one pass over the longest period's payments.

    Each payment is counted once, in the shortest period it falls in; a longer period adds up the shorter ones.
    ``ix_orders_paid_at`` includes every column read here, so this is an index-only scan.
    """
    starts = sorted({since for _label, since in periods}, reverse=True)  # latest first: the shortest period
    bucket = sa.case(*((Order.paid_at >= since, i) for i, since in enumerate(starts[:-1])), else_=len(starts) - 1)
    rows = (
        await session.execute(
            sa.select(bucket, sa.func.count(), sa.func.sum(Order.net), sa.func.sum(Order.gross))
            .where(Order.paid_at >= starts[-1], Order.payment_status.in_(COLLECTED), Order.currency == "EUR")
            .group_by(bucket)
        )
    ).all()
    per_bucket = {int(i): (int(n), Decimal(net), Decimal(gross)) for i, n, net, gross in rows}
    totals: dict[datetime, tuple[int, Decimal, Decimal]] = {}
    orders, net, gross = 0, Decimal("0.00"), Decimal("0.00")
    for i, since in enumerate(starts):
        n, bucket_net, bucket_gross = per_bucket.get(i, (0, Decimal("0.00"), Decimal("0.00")))
        orders, net, gross = orders + n, net + bucket_net, gross + bucket_gross
        totals[since] = (orders, net, gross)
    return [Revenue(label, *totals[since]) for label, since in periods]


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
    today = berlin_midnight(now)
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
