"""The dashboard's figures and the fulfillment board's queues, as staff see them, against the orders themselves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape

import sqlalchemy as sa

from app.accounts.models import Role
from app.actors import Actor
from app.fulfillment.alerts import AlertTopic, alert_staff, recent_alerts
from app.fulfillment.queues import QUEUES, stuck_condition
from app.i18n import BERLIN
from app.orders.models import Order, OrderLine
from app.uow import UnitOfWork

STATUS_ROW = re.compile(r'\?status=(\w+)">\s*<span>.*?</span><span>([\d.,]+)</span>', re.DOTALL)
ORDERS_IN_PERIOD = re.compile(r"(\d+) orders?</div>")
QUEUE_COUNT = re.compile(r'data-testid="count-(\w+)">(\d+)<')
QUEUE_CARD = re.compile(r'<div class="card" data-queue="(\w+)">(.*?)(?=<div class="col-12 col-md-6|\Z)', re.DOTALL)
SYSTEM = Actor.system("test")
LINE_LINK = re.compile(r'class="fw-bold">(SMP-\d{4}-\d{6,})/(\d+)</a>')


async def page(backoffice, path: str) -> str:
    response = await backoffice.as_role(Role.ADMIN).get(path)
    assert response.status_code == 200
    return response.text


async def test_the_dashboard_counts_orders_by_status_as_the_orders_say(backoffice):
    async with backoffice.sessions() as session:
        rows = (await session.execute(sa.select(Order.status, sa.func.count()).group_by(Order.status))).all()
    expected = {str(status): n for status, n in rows}

    shown = {
        status: int(n.replace(".", "").replace(",", ""))
        for status, n in STATUS_ROW.findall(await page(backoffice, "/admin/dashboard"))
    }

    assert {status: n for status, n in shown.items() if n} == expected
    assert len(shown) == 7


async def test_the_dashboard_revenue_counts_the_paid_orders_of_each_period(backoffice):
    today = datetime.now(UTC).astimezone(BERLIN).date()
    expected = []
    async with backoffice.sessions() as session:
        for first in (today, today - timedelta(days=6), today - timedelta(days=29)):
            paid = sa.select(sa.func.count()).where(
                Order.paid_at >= datetime.combine(first, time(0), tzinfo=BERLIN), Order.currency == "EUR"
            )
            expected.append(await session.scalar(paid))
    assert expected[-1], "the demo data has no order paid in the last 30 days"

    revenue = (await page(backoffice, "/admin/dashboard")).split('data-testid="revenue"', 1)[1].split("Attention")[0]

    assert [int(n) for n in ORDERS_IN_PERIOD.findall(revenue)] == expected


async def test_the_board_counts_and_lists_each_queue_longest_waiting_first(backoffice):
    now = datetime.now(UTC)
    conditions = {q.key: OrderLine.fulfillment_status.in_(q.states) for q in QUEUES}
    conditions["stuck"] = stuck_condition(now, timedelta(hours=backoffice.admin.settings.stuck_after_hours))
    expected_counts, expected_lines = {}, {}
    async with backoffice.sessions() as session:
        for key, condition in conditions.items():
            rows = (
                await session.execute(
                    sa.select(Order.number, OrderLine.position)
                    .join(OrderLine.order)
                    .where(condition)
                    .order_by(OrderLine.status_changed_at, OrderLine.id)
                )
            ).all()
            expected_counts[key] = len(rows)
            expected_lines[key] = [(number, str(position)) for number, position in rows[:25]]
    assert sum(expected_counts.values()), "the demo data has nothing on the board"

    board = unescape(await page(backoffice, "/admin/fulfillment"))

    assert {key: int(n) for key, n in QUEUE_COUNT.findall(board)} == expected_counts
    assert {key: LINE_LINK.findall(card) for key, card in QUEUE_CARD.findall(board)} == expected_lines


async def test_the_dashboard_lists_the_alerts_of_the_last_day_each_linking_to_its_record(backoffice):
    async with backoffice.sessions() as session:
        order = await session.scalar(sa.select(Order).order_by(Order.id).limit(1))
        assert order is not None
        uow = UnitOfWork(session)
        await alert_staff(uow, SYSTEM, AlertTopic.DISPUTE_OPENED, "order", order.id, message="dispute dp_new opened")
        await uow.flush()
        await session.commit()
        two_days_on = await recent_alerts(session, now=datetime.now(UTC) + timedelta(days=2))

    html = unescape(await page(backoffice, "/admin/dashboard"))
    alerts = html[html.index('data-testid="alerts"') :]
    alerts = alerts[: alerts.index("</div>\n  </div>")]

    assert (
        f'href="/admin/order/details/{order.id}"><span class="badge bg-orange-lt me-2">Dispute opened</span>' in alerts
    )
    assert "dispute dp_new opened" not in alerts  # the English wording stays in the mail and the audit log
    disputes = [alert for alert in two_days_on if alert.topic == AlertTopic.DISPUTE_OPENED]
    assert disputes == []  # older than a day: gone
