"""The funnel report counts distinct visitors per step and bucket; rates are worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.models import FunnelEvent, FunnelKind
from reports.catalog import REPORTS
from reports.periods import DateRange, Grouping
from reports.revenue import Selection
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = DateRange(date(2026, 11, 2), date(2026, 11, 15))  # two ISO weeks, Monday to Sunday


def _event(kind: FunnelKind, visitor: str, day: int, service_id: int | None = None) -> FunnelEvent:
    at = datetime(2026, 11, day, 12, tzinfo=BERLIN)
    return FunnelEvent(at=at, kind=kind, visitor_id=visitor, service_id=service_id)


async def _history(session: AsyncSession) -> tuple[int, int]:
    followers = await factories.service(session, name_en="Followers")
    likes = await factories.service(session, name_en="Likes")
    session.add_all(
        [
            # Week 45: three land, two look at followers (one twice), one starts a checkout and pays.
            *(_event(FunnelKind.LANDING_VIEW, visitor, 2) for visitor in ("a", "b", "c")),
            _event(FunnelKind.SERVICE_VIEW, "a", 2, followers.id),
            _event(FunnelKind.SERVICE_VIEW, "a", 3, followers.id),
            _event(FunnelKind.SERVICE_VIEW, "b", 3, followers.id),
            _event(FunnelKind.CHECKOUT_STARTED, "a", 3, followers.id),
            _event(FunnelKind.PAID, "a", 3, followers.id),
            # Week 46: one visitor lands on two days, looks at likes, starts a checkout, does not pay.
            _event(FunnelKind.LANDING_VIEW, "d", 9),
            _event(FunnelKind.LANDING_VIEW, "d", 10),
            _event(FunnelKind.SERVICE_VIEW, "d", 10, likes.id),
            _event(FunnelKind.CHECKOUT_STARTED, "d", 10, likes.id),
            # Outside the range: not counted.
            _event(FunnelKind.LANDING_VIEW, "e", 16),
        ]
    )
    await session.commit()
    return followers.id, likes.id


async def test_weekly_funnel_counts_each_visitor_once_per_week(session: AsyncSession) -> None:
    await _history(session)
    frame = await REPORTS["funnel"].build(session, Selection(NOVEMBER, Grouping.WEEK), str)
    assert frame.rows() == [
        ("2026-W45", 3, 2, 1, 1, Decimal("50.0"), Decimal("100.0"), Decimal("33.3")),
        ("2026-W46", 1, 1, 1, 0, Decimal("100.0"), Decimal("0.0"), Decimal("0.0")),
    ]


async def test_funnel_by_service_starts_at_the_service_page(session: AsyncSession) -> None:
    await _history(session)
    frame = await REPORTS["funnel-by-service"].build(session, Selection(NOVEMBER, None), str)
    assert frame.columns[:2] == ["service", "service_visitors"]
    assert sorted(frame.rows()) == [
        ("Followers", 2, 1, 1, Decimal("50.0"), Decimal("100.0"), Decimal("50.0")),
        ("Likes", 1, 1, 0, Decimal("100.0"), Decimal("0.0"), Decimal("0.0")),
    ]
