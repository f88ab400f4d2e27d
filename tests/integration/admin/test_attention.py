"""The dashboard's attention counts, each one click away from exactly the lines it counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.fulfillment.attention import QUEUED_TOO_LONG, Attention
from app.fulfillment.commands import DispatchResult, record_dispatch
from app.orders import commands
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from app.uow import UnitOfWork
from tests import factories
from tests.integration.admin.helpers import login_as, order_with_line_at

D = LineStatus
COUNT = re.compile(r'data-testid="attention-([\w-]+)".*?data-testid="count">([\d.,]+)<', re.DOTALL)
ROW_ID = re.compile(r'<tr><td><input type="hidden" value="(\d+)">')


async def line_at(session, *path: LineStatus, provider_order_id: str | None = None) -> int:
    _order, line = await order_with_line_at(session, *path, provider_order_id=provider_order_id)
    return line.id


async def set_times(session, line_id: int, ago: timedelta) -> None:
    """The line entered its state (and was dispatched, if it was) ``ago``."""
    then = datetime.now(UTC) - ago
    await session.execute(
        sa.update(OrderLine)
        .where(OrderLine.id == line_id)
        .values(status_changed_at=then, dispatched_at=sa.case((OrderLine.dispatched_at.is_(None), None), else_=then))
    )
    await session.commit()


@pytest.fixture
async def troubled(session) -> dict[Attention, set[int]]:
    """Lines of every kind of trouble, and lines next to each that are fine (fresh in their state)."""
    failed = await line_at(session, D.DISPATCHING)
    await record_dispatch(
        UnitOfWork(session), line_id=failed, actor=factories.TEST_ACTOR, result=DispatchResult.REFUSED, note="bad link"
    )
    held = await line_at(session)
    await commands.hold_lines(UnitOfWork(session), line_ids=[held], actor=factories.TEST_ACTOR, reason="client asked")
    await session.commit()
    unknown = await line_at(session, D.DISPATCHING, D.DISPATCH_UNKNOWN)
    review = await line_at(session, D.DISPATCHING, D.DISPATCH_UNKNOWN, D.NEEDS_REVIEW)
    stuck = await line_at(session, D.DISPATCHING, D.DISPATCHED, D.IN_PROGRESS, provider_order_id="UP-1")
    await set_times(session, stuck, timedelta(hours=30))
    moving = await line_at(session, D.DISPATCHING, D.DISPATCHED, provider_order_id="UP-2")
    waiting = await line_at(session)
    await set_times(session, waiting, QUEUED_TOO_LONG + timedelta(minutes=1))
    fresh = await line_at(session)
    assert moving and fresh
    return {
        Attention.FAILED: {failed},
        Attention.ON_HOLD: {held},
        Attention.NEEDS_REVIEW: {unknown, review},
        Attention.STUCK: {stuck},
        Attention.QUEUED_TOO_LONG: {waiting},
    }


async def test_each_attention_count_links_to_a_list_of_exactly_the_lines_it_counts(web, session, troubled):
    await login_as(session, web, Role.STAFF)

    dashboard = await web.get("/admin/dashboard")
    counts = {kind: int(n) for kind, n in COUNT.findall(dashboard.text)}
    listed = {}
    for kind in Attention:
        assert f"/admin/order-line/list?attention={kind.value}" in dashboard.text
        page = await web.get(f"/admin/order-line/list?attention={kind.value}")
        assert page.status_code == 200
        listed[kind] = {int(pk) for pk in ROW_ID.findall(page.text)}

    assert listed == troubled
    assert {kind: counts[kind.value] for kind in Attention} == {kind: len(ids) for kind, ids in troubled.items()}


async def test_an_unknown_attention_filter_lists_every_line(web, session, troubled):
    await login_as(session, web, Role.STAFF)

    page = await web.get("/admin/order-line/list?attention=everything")

    assert page.status_code == 200
    assert len(ROW_ID.findall(page.text)) == 8


async def test_providers_low_on_balance_are_counted_and_listed_alike(web, session):
    low = await factories.provider(session, balance=Decimal("3.00"), low_balance_threshold=Decimal("10.00"))
    await factories.provider(session, balance=Decimal("50.00"), low_balance_threshold=Decimal("10.00"))
    await factories.provider(session, balance=Decimal("1.00"), low_balance_threshold=Decimal("10.00"), is_active=False)
    await session.commit()
    await login_as(session, web, Role.ADMIN)

    counts = dict(COUNT.findall((await web.get("/admin/dashboard")).text))
    listed = await web.get("/admin/provider/list?low_balance=yes")

    assert counts["low-balance"] == "1"
    assert low.name in listed.text
    assert listed.text.count("/admin/provider/details/") == 1


async def test_the_dashboard_says_when_no_worker_is_running(web, session):
    await login_as(session, web, Role.STAFF)

    assert 'data-testid="worker-down"' in (await web.get("/admin/dashboard")).text
    await session.execute(sa.text("INSERT INTO procrastinate_workers DEFAULT VALUES"))
    await session.commit()
    assert 'data-testid="worker-down"' not in (await web.get("/admin/dashboard")).text


async def test_revenue_tiles_link_to_the_orders_paid_in_their_period(web, session):
    paid, _line = await order_with_line_at(session)
    await factories.place_order(session)  # not paid: not in any revenue period
    await session.commit()
    await login_as(session, web, Role.STAFF)

    dashboard = (await web.get("/admin/dashboard")).text
    today = await web.get("/admin/order/list?paid_at=today")

    for preset in ("today", "7d", "30d"):
        assert f"/admin/order/list?paid_at={preset}" in dashboard
    assert today.status_code == 200
    assert ROW_ID.findall(today.text) == [str(paid.id)]
