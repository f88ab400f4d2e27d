"""The metrics query thins a dense snapshot series for the chart without changing the latest count or growth."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.instagram.metrics import BIN, CountSource, customer_profile_metrics
from app.uow import utc_now
from tests import factories
from tests.integration.instagram.history import DAY, profile_order, snapshot


async def test_a_snapshot_every_ten_minutes_is_drawn_from_the_latest_of_each_bin(session: AsyncSession):
    buyer = await factories.customer(session)
    _order, line = await profile_order(session, buyer, await factories.service(session), "dense.profile", utc_now())
    every = timedelta(minutes=10)
    count = int(8 * DAY / every)  # eight days, so the 7-day growth has a count before its cutoff
    session.add_all(snapshot(line, "dense.profile", every * (count - i), 1000 + i) for i in range(count))
    await session.flush()

    (profile,) = await customer_profile_metrics(session, buyer.id, utc_now())

    assert profile.source == CountSource.SNAPSHOTS and profile.followers is not None
    drawn = profile.followers.line.count(",")
    assert drawn <= 8 * DAY / BIN + 2 and drawn < count / 10  # one point per bin, not one per snapshot
    assert profile.followers.last.value == 1000 + count - 1  # the latest snapshot is always drawn
    # Seven days ago lies the snapshot one day (144 snapshots) after the first: 1000 + 144.
    assert profile.growth[0].change == (1000 + count - 1) - (1000 + 144)
