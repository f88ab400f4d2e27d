"""Figures for the back-office dashboard, computed in SQL here and only displayed by the admin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.fulfillment.models import Provider
from app.fulfillment.queues import count_lines, stuck_condition
from app.i18n import BERLIN, N_
from app.orders.models import Order, OrderLine
from app.orders.states import LineStatus, OrderStatus, PaymentStatus
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
    needs_review: int
    stuck: int
    providers: Sequence[Provider]
    failed_jobs: Sequence[FailedJob]
    failed_webhooks: Sequence[StripeEvent]


def berlin_midnight(now: datetime) -> datetime:
    local = now.astimezone(BERLIN)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


async def revenue_since(session: AsyncSession, label: str, since: datetime) -> Revenue:
    row = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(Order.net), 0),
                sa.func.coalesce(sa.func.sum(Order.gross), 0),
            ).where(Order.paid_at >= since, Order.payment_status.in_(COLLECTED), Order.currency == "EUR")
        )
    ).one()
    return Revenue(label=label, orders=int(row[0]), net=Decimal(row[1]), gross=Decimal(row[2]))


async def orders_by_status(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(sa.select(Order.status, sa.func.count()).group_by(Order.status))).all()
    counts = {status.value: 0 for status in OrderStatus}
    counts.update({OrderStatus(status).value: int(n) for status, n in rows})
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
    revenue = [
        await revenue_since(session, N_("Today"), today),
        await revenue_since(session, N_("Last 7 days"), today - timedelta(days=6)),
        await revenue_since(session, N_("Last 30 days"), today - timedelta(days=29)),
    ]
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
        needs_review=await count_lines(
            session, OrderLine.fulfillment_status.in_([LineStatus.DISPATCH_UNKNOWN, LineStatus.NEEDS_REVIEW])
        ),
        stuck=await count_lines(session, stuck_condition(now, stuck_after)),
        providers=providers,
        failed_jobs=await failed_jobs(session),
        failed_webhooks=webhooks,
    )
