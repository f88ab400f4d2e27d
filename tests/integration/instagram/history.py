"""Hand-built Instagram histories: a customer's paid profile orders and the snapshots of their profiles."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Service
from app.customers.models import Customer
from app.instagram.models import InstagramSnapshot
from app.orders.models import Order, OrderLine
from app.uow import utc_now
from tests import factories

DAY = timedelta(days=1)


async def profile_order(
    session: AsyncSession,
    buyer: Customer,
    service: Service,
    handle: str,
    started: datetime,
    *,
    start_count: int | None = None,
    remains: int | None = None,
    progress_at: datetime | None = None,
) -> tuple[Order, OrderLine]:
    """A paid order of 1,000 for ``handle``'s profile, started (dispatched) at ``started``."""
    order = await factories.paid_order(
        session, buyer=buyer, items=[(service, 1000, f"https://www.instagram.com/{handle}/")]
    )
    line = order.lines[0]
    line.dispatched_at, line.last_progress_at = started, progress_at
    line.start_count, line.remains = start_count, remains
    await session.flush()
    return order, line


def snapshot(line: OrderLine, handle: str, ago: timedelta, followers: int, following: int = 300, media: int = 40):
    return InstagramSnapshot(
        line_id=line.id,
        handle=handle,
        taken_at=utc_now() - ago,
        followers=followers,
        following=following,
        media_count=media,
    )


async def anna_history(session: AsyncSession, email: str = "anna@example.com") -> dict[str, Order]:
    """Anna's three profiles:

    - ``anna.cafe``: snapshots 100, 60, 40, 20 and 8 days and an hour ago (1,000 → 1,100 → 1,200 → 1,500 → 1,700
      → 2,000 followers), two orders started 45 and 10 days ago (both inside the 60 days drawn);
    - ``anna.shop``: snapshots 10 days and an hour ago only (500 → 650);
    - ``anna.private``: no snapshot (Instagram does not show it): the provider's start count 500 nine days ago,
      800 delivered by two days ago.
    """
    buyer = await factories.customer(session, email=email, locale="en")
    service = await factories.service(session)
    now = utc_now()
    first, cafe = await profile_order(session, buyer, service, "anna.cafe", now - 45 * DAY)
    second, _again = await profile_order(session, buyer, service, "anna.cafe", now - 10 * DAY)
    shop_order, shop = await profile_order(session, buyer, service, "anna.shop", now - 12 * DAY)
    private, _line = await profile_order(
        session, buyer, service, "anna.private", now - 9 * DAY, start_count=500, remains=200, progress_at=now - 2 * DAY
    )
    for days, followers in ((100, 1000), (60, 1100), (40, 1200), (20, 1500), (8, 1700)):
        session.add(snapshot(cafe, "anna.cafe", days * DAY, followers, following=300 + days, media=days))
    session.add(snapshot(cafe, "anna.cafe", timedelta(hours=1), 2000, following=290, media=95))
    session.add_all([snapshot(shop, "anna.shop", 10 * DAY, 500), snapshot(shop, "anna.shop", timedelta(hours=1), 650)])
    await session.flush()
    return {"first": first, "second": second, "shop": shop_order, "private": private}


async def ben_history(session: AsyncSession) -> Order:
    """Ben's profile ``ben.gym`` with two snapshots."""
    buyer = await factories.customer(session, email="ben@example.com", locale="en")
    order, line = await profile_order(session, buyer, await factories.service(session), "ben.gym", utc_now() - 3 * DAY)
    session.add_all([snapshot(line, "ben.gym", 8 * DAY, 7000), snapshot(line, "ben.gym", timedelta(hours=2), 7600)])
    await session.flush()
    return order
