"""Subscriptions, cohort retention and margin on hand-built histories; every figure worked out by hand below.

Every service costs 10.00 per 1000 (19 % VAT), so an order of 1000 is 10.00 net.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Service
from app.customers.models import Customer
from app.orders.models import Order, OrderLine
from app.payments.models import Subscription, SubscriptionStatus
from reports.catalog import REPORTS
from reports.periods import DateRange, Grouping
from reports.revenue import Selection
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
AUTUMN = DateRange(date(2026, 10, 1), date(2026, 11, 30))
NONE = None


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


async def _paid(
    session: AsyncSession, item: Service, at: datetime, *, buyer: Customer | None = None, currency: str = "EUR"
) -> Order:
    order = await factories.paid_order(session, buyer=buyer, items=[(item, 1000, "https://www.instagram.com/p/s/")])
    await session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=at, currency=currency))
    return order


async def _subscription(
    session: AsyncSession, item: Service, *paid: datetime, canceled: datetime | None = None, currency: str = "EUR"
) -> None:
    buyer = await factories.customer(session)
    row = Subscription(
        customer_id=buyer.id,
        service_id=item.id,
        status=SubscriptionStatus.CANCELED if canceled else SubscriptionStatus.ACTIVE,
        target_username="cafe.lindenblatt",
        price=Decimal("11.90"),
        canceled_at=canceled,
    )
    session.add(row)
    await session.flush()
    for at in paid:
        order = await _paid(session, item, at, buyer=buyer, currency=currency)
        await session.execute(sa.update(Order).where(Order.id == order.id).values(subscription_id=row.id))


async def test_mrr_renewals_and_churn_per_berlin_month(session: AsyncSession) -> None:
    """S1 pays every month; S2 starts at 00:30 Berlin on 1 November (still October in UTC); S3 misses October
    and comes back in November; S4 pays September and October and is canceled on 20 October; S5 pays October and
    November in US dollars (kept apart: new in October, renewed in November).

    October: active S1, S4 → 20.00; churned S3 (10.00 of September); due S1, S3, S4, paid S1, S4 → 66.7 %;
    churn 1 of 3 → 33.3 %. November: active S1, S2, S3 → 30.00; new S2 10.00; reactivated S3 10.00; churned
    S4 (10.00); due S1 only (S4 was canceled before November), paid → 100.0 %; churn 1 of 2 → 50.0 %.
    """
    item = await factories.service(session, price="10.0000")
    await _subscription(session, item, berlin(2026, 9, 15, 12), berlin(2026, 10, 15, 12), berlin(2026, 11, 15, 12))
    await _subscription(session, item, berlin(2026, 11, 1, 0, 30))
    await _subscription(session, item, berlin(2026, 9, 10, 12), berlin(2026, 11, 10, 12))
    await _subscription(
        session, item, berlin(2026, 9, 20, 12), berlin(2026, 10, 20, 9), canceled=berlin(2026, 10, 20, 10)
    )
    await _subscription(session, item, berlin(2026, 10, 12, 12), berlin(2026, 11, 12, 12), currency="USD")
    await session.commit()
    frame = await REPORTS["subscriptions"].build(session, Selection(AUTUMN, Grouping.MONTH), str)
    ten, twenty, zero = Decimal("10.00"), Decimal("20.00"), Decimal("0.00")
    assert frame.rows() == [
        ("2026-10", "EUR", 2, twenty, zero, zero, ten, 3, 2, Decimal("66.7"), 1, Decimal("33.3")),
        ("2026-11", "EUR", 3, Decimal("30.00"), ten, ten, ten, 1, 1, Decimal("100.0"), 1, Decimal("50.0")),
        ("2026-10", "USD", 1, ten, ten, zero, zero, 0, 0, None, 0, None),
        ("2026-11", "USD", 1, ten, zero, zero, zero, 1, 1, Decimal("100.0"), 0, Decimal("0.0")),
    ]


async def test_cohorts_start_in_the_berlin_month_of_the_first_paid_order(session: AsyncSession) -> None:
    """X: 5 Oct and 5 Nov; W: 31 Oct 23:30 Berlin only; Y: 1 Nov 00:30 Berlin (31 Oct in UTC); V: first in
    September (a cohort before the range), again in October.

    Cohort October: X and W (2); month 0: 100 %, month 1: X → 50 %. Cohort November: Y; month 0 100 %.
    Later months lie after the range: not known (null)."""
    item = await factories.service(session, price="10.0000")
    x, w, y, v = [await factories.customer(session) for _ in range(4)]
    await _paid(session, item, berlin(2026, 10, 5, 12), buyer=x)
    await _paid(session, item, berlin(2026, 11, 5, 12), buyer=x)
    await _paid(session, item, berlin(2026, 10, 31, 23, 30), buyer=w)
    await _paid(session, item, berlin(2026, 11, 1, 0, 30), buyer=y)
    await _paid(session, item, berlin(2026, 9, 10, 12), buyer=v)
    await _paid(session, item, berlin(2026, 10, 10, 12), buyer=v)
    await session.commit()
    frame = await REPORTS["cohort-retention"].build(session, Selection(AUTUMN, None), str)
    unknown = [NONE] * 10
    assert frame.rows() == [
        ("2026-10", 2, Decimal("100.0"), Decimal("50.0"), *unknown),
        ("2026-11", 1, Decimal("100.0"), NONE, *unknown),
    ]


async def _margin_history(session: AsyncSession) -> None:
    """Followers: line A (provider P, charged 5.00 USD at 0.90 € → 4.50) and line B (2000: net 20.00, charged
    8.00 USD → 7.20, refunded 5.95 gross → 5.00 net); a US-dollar order (left out). Likes: line C, fulfilled by
    hand (no provider, no charge)."""
    provider = await factories.provider(session, name="Upstream P", currency="USD", eur_per_unit=Decimal("0.9"))
    followers = await factories.service(session, price="10.0000", name_en="Followers")
    likes = await factories.service(session, price="10.0000", name_en="Likes")
    a = await _paid(session, followers, berlin(2026, 10, 3, 12))
    b = await factories.paid_order(session, items=[(followers, 2000, "https://www.instagram.com/p/b/")])
    await session.execute(sa.update(Order).where(Order.id == b.id).values(paid_at=berlin(2026, 11, 1, 0, 30)))
    await _paid(session, likes, berlin(2026, 10, 4, 12))
    dollars = await _paid(session, followers, berlin(2026, 10, 5, 12), currency="USD")
    for line, charge in ((a.lines[0], "5.00000"), (b.lines[0], "8.00000"), (dollars.lines[0], "3.00000")):
        await session.execute(
            sa.update(OrderLine).where(OrderLine.id == line.id).values(provider_id=provider.id, charge=Decimal(charge))
        )
    await factories.succeeded_refund(session, b, b.lines[0], Decimal("5.95"), at=berlin(2026, 12, 2, 9))
    await session.commit()


async def test_margin_per_service_counts_refunds_and_converted_charges(session: AsyncSession) -> None:
    """Followers: net 30.00, refunds 5.00, charge 4.50 + 7.20 = 11.70, margin 25.00 - 11.70 = 13.30 → 53.2 %.
    Likes: net 10.00, no charge: margin 10.00, 100.0 %, one line without a charge."""
    await _margin_history(session)
    frame = await REPORTS["margin-by-service"].build(session, Selection(AUTUMN, None), str)
    assert frame.rows() == [
        ("Followers", 2, 0, Decimal("30.00"), Decimal("5.00"), Decimal("11.70"), Decimal("13.30"), Decimal("53.2")),
        ("Likes", 1, 1, Decimal("10.00"), Decimal("0.00"), Decimal("0.00"), Decimal("10.00"), Decimal("100.0")),
    ]


async def test_margin_per_provider_and_month_in_berlin_time(session: AsyncSession) -> None:
    """Line B was paid at 00:30 Berlin on 1 November: November's, though still October in UTC."""
    await _margin_history(session)
    frame = await REPORTS["margin-by-provider"].build(session, Selection(AUTUMN, Grouping.MONTH), str)
    assert frame.select("period", "provider", "lines", "provider_charge", "margin").rows() == [
        ("2026-10", "manual", 1, Decimal("0.00"), Decimal("10.00")),
        ("2026-10", "Upstream P", 1, Decimal("4.50"), Decimal("5.50")),
        ("2026-11", "Upstream P", 1, Decimal("7.20"), Decimal("7.80")),
    ]
