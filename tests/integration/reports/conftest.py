"""A small sales history whose report figures are worked out by hand in the tests.

Every service costs 10.00 per 1000 (19 % VAT): 1000 → net 10.00, VAT 1.90, gross 11.90; 2000 → 20.00/3.80/23.80.

- A: 1000 of *Followers* (category Growth), paid 2026-10-31 23:30 Berlin — October in Berlin.
- B: 2000 of *Followers*, paid 2026-11-01 00:30 Berlin — still 31 October in UTC, November in Berlin.
- C: 1000 of *Likes* (category Engagement), paid 2026-11-15; its line refunded 5.95 gross on 2026-12-02
  (net share 5.00, VAT 0.95).
- D: 1000 of *Followers*, paid 2026-11-20, in US dollars.
- E: 1000 of *Followers*, never paid.
- A again: 1.19 refunded for the whole order (no line) on 2026-12-03 (net 1.00, VAT 0.19).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Category, Platform, Service
from app.orders.models import Order
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class History:
    database_url: str
    session: AsyncSession  # for the reports to read with


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


async def _category(session: AsyncSession, platform: Platform, name_en: str, name_de: str) -> Category:
    row = Category(slug=name_en.lower(), platform=platform, name_en=name_en, name_de=name_de)
    session.add(row)
    await session.flush()
    return row


async def _service(session: AsyncSession, category: Category, name_en: str, name_de: str) -> Service:
    row = Service(
        slug=name_en.lower(),
        category_id=category.id,
        name_en=name_en,
        name_de=name_de,
        price=Decimal("10.0000"),
        min_quantity=100,
        max_quantity=10000,
    )
    session.add(row)
    await session.flush()
    return await factories.reload_service(session, row.id)


async def _paid(session: AsyncSession, service: Service, quantity: int, at: datetime, currency: str = "EUR") -> Order:
    link = f"https://www.{service.category.platform}.com/@history"
    order = await factories.paid_order(session, items=[(service, quantity, link)])
    await session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=at, currency=currency))
    return order


@pytest.fixture
async def history(session: AsyncSession, clean_db: str) -> History:
    growth = await _category(session, Platform.INSTAGRAM, "Growth", "Wachstum")
    engagement = await _category(session, Platform.TIKTOK, "Engagement", "Interaktion")
    followers = await _service(session, growth, "Followers", "Follower")
    likes = await _service(session, engagement, "Likes", "Likes")
    a = await _paid(session, followers, 1000, berlin(2026, 10, 31, 23, 30))
    await _paid(session, followers, 2000, berlin(2026, 11, 1, 0, 30))
    c = await _paid(session, likes, 1000, berlin(2026, 11, 15, 12))
    await _paid(session, followers, 1000, berlin(2026, 11, 20, 12), currency="USD")
    await factories.place_order(session, items=[(followers, 1000, "https://www.instagram.com/p/unpaid/")])
    await factories.succeeded_refund(session, c, c.lines[0], Decimal("5.95"), at=berlin(2026, 12, 2, 9))
    await factories.succeeded_refund(session, a, None, Decimal("1.19"), at=berlin(2026, 12, 3, 9))
    await session.commit()
    return History(clean_db, session)
