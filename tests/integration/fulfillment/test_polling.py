"""Polling: progress recorded from the provider's answers, finished lines closed, partial refunds computed."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.models import ServiceKind
from app.fulfillment.commands import UpstreamProgress, record_progress
from app.fulfillment.dispatch import dispatch_line
from app.fulfillment.polling import poll_due_lines
from app.orders.models import Order, OrderLine
from app.orders.states import LineStatus
from app.payments.models import Payment, PaymentMethod, PaymentRecordStatus, Refund, RefundStatus
from app.providers.smm_v2 import SmmV2Client
from app.sandbox.provider import ManualClock, SandboxProvider, Simulation
from app.uow import UnitOfWork, utc_now
from tests import factories
from tests.integration.fulfillment.conftest import Catalog
from tests.integration.fulfillment.helpers import line, line_events, paid_line
from tests.integration.providers.conftest import SANDBOX_KEY, TEST_TIMEOUTS

Sessions = async_sessionmaker[AsyncSession]
LATER = utc_now().replace(year=utc_now().year + 1)  # every line is due


async def order_of(session: AsyncSession, of: OrderLine) -> Order:
    found = await session.scalar(
        sa.select(Order).where(Order.id == of.order_id).execution_options(populate_existing=True)
    )
    assert found is not None
    return found


async def poll(sessions: Sessions):
    return await poll_due_lines(sessions, now=LATER, timeouts=TEST_TIMEOUTS)


async def test_a_line_progresses_and_completes_and_repeated_polls_change_nothing(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider, clock: ManualClock
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT], 1000)
    await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS)

    clock.advance(60)  # started 10 s after placing, half delivered
    report = await poll(sessions)
    assert (report.asked, report.changed, report.finished) == (1, 1, 0)
    moving = await line(session, line_id)
    assert moving.fulfillment_status == LineStatus.IN_PROGRESS
    assert moving.remains == 500 and moving.start_count is not None and moving.next_poll_at is not None

    clock.advance(100)
    report = await poll(sessions)
    done = await line(session, line_id)
    assert done.fulfillment_status == LineStatus.COMPLETED
    assert (done.remains, done.charge) == (0, Decimal("0.90000"))
    assert done.next_poll_at is None and (await order_of(session, done)).status == "completed"
    events = len(await line_events(session, line_id))
    assert "Completed" in (await line_events(session, line_id))[-1].data["provider_answer"]

    assert (await poll(sessions)).asked == 0  # finished lines are not asked again
    same = UpstreamProgress(LineStatus.COMPLETED, done.start_count, 0)
    await record_progress(UnitOfWork(session), line_id=line_id, actor=factories.TEST_ACTOR, progress=same)
    await session.commit()
    assert len(await line_events(session, line_id)) == events


async def test_an_out_of_order_answer_never_moves_a_line_back(
    session: AsyncSession, sessions: Sessions, catalog: Catalog
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT], 1000)
    await factories.move_line(session, line_id, LineStatus.DISPATCHING, LineStatus.DISPATCHED, provider_order_id="77")
    uow = UnitOfWork(session)
    actor = factories.TEST_ACTOR
    await record_progress(uow, line_id=line_id, actor=actor, progress=UpstreamProgress(LineStatus.IN_PROGRESS, 5, 400))
    await record_progress(uow, line_id=line_id, actor=actor, progress=UpstreamProgress(LineStatus.DISPATCHED, 0, 1000))
    assert (await line(session, line_id)).remains == 400
    await record_progress(uow, line_id=line_id, actor=actor, progress=UpstreamProgress(LineStatus.COMPLETED, 5, 0))
    events = len(await line_events(session, line_id))
    await record_progress(uow, line_id=line_id, actor=actor, progress=UpstreamProgress(LineStatus.IN_PROGRESS, 5, 300))
    await record_progress(uow, line_id=line_id, actor=actor, progress=UpstreamProgress(LineStatus.PARTIAL, 5, 300))
    await session.commit()

    after = await line(session, line_id)
    assert (after.fulfillment_status, after.remains) == (LineStatus.COMPLETED, 0)
    assert len(await line_events(session, line_id)) == events


async def test_a_partial_delivery_refunds_exactly_the_undelivered_share_of_a_card_payment(
    session: AsyncSession, sessions: Sessions, catalog: Catalog
):
    partial = Simulation(start_after=10, delivery_seconds=100, partial_share=1.0)
    clock = ManualClock()
    with SandboxProvider(api_key=SANDBOX_KEY, clock=clock, simulation=partial) as stops_short:
        catalog.provider.api_url = stops_short.url
        await session.commit()
        line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT], 1000)
        order = await order_of(session, await line(session, line_id))
        session.add(
            Payment(
                order_id=order.id,
                method=PaymentMethod.STRIPE,
                status=PaymentRecordStatus.SUCCEEDED,
                stripe_payment_intent_id="pi_partial",
                amount=order.gross,
                currency=order.currency,
            )
        )
        await session.commit()
        await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS)
        clock.advance(500)
        await poll(sessions)
        await poll(sessions)

    ended = await line(session, line_id)
    assert ended.fulfillment_status == LineStatus.PARTIAL and 0 < ended.remains < 1000
    expected = (Decimal(ended.remains) * order.gross / 1000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    (refund,) = (await session.scalars(sa.select(Refund).where(Refund.order_line_id == line_id))).all()
    assert (refund.amount, refund.status) == (expected, RefundStatus.PENDING)
    jobs = await session.execute(
        sa.text("SELECT (args->>'refund_id')::int FROM procrastinate_jobs WHERE task_name = 'payments.send_refund'")
    )
    assert jobs.scalars().all() == [refund.id]  # sent to Stripe by the worker, with the refund's own key


async def test_a_canceled_order_asks_for_the_whole_line_back(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider, clock: ManualClock
):
    line_id = await paid_line(session, catalog.services[ServiceKind.DEFAULT], 1000)
    await dispatch_line(sessions, line_id, timeouts=TEST_TIMEOUTS)
    async with SmmV2Client(sandbox.url, SANDBOX_KEY, timeouts=TEST_TIMEOUTS) as client:
        await client.cancel([sandbox.orders[0].order_id])
    clock.advance(5)
    await poll(sessions)

    ended = await line(session, line_id)
    assert ended.fulfillment_status == LineStatus.CANCELED
    gross = (await order_of(session, ended)).gross
    (refund,) = [
        e.data["refund_request"] for e in await line_events(session, line_id) if e.data and "refund_request" in e.data
    ]
    assert refund == {"amount": str(gross), "currency": "EUR", "by_hand": True}  # paid without a card: staff refund


async def test_a_finished_line_frees_its_link_for_the_line_waiting_behind_it(
    session: AsyncSession, sessions: Sessions, catalog: Catalog, sandbox: SandboxProvider, clock: ManualClock
):
    service = catalog.services[ServiceKind.DEFAULT]
    link = "https://www.instagram.com/p/shared/"
    first = await paid_line(session, service, 1000, link=link)
    second = await paid_line(session, service, 1000, link=link)
    assert await dispatch_line(sessions, first, timeouts=TEST_TIMEOUTS) == LineStatus.DISPATCHED
    await dispatch_line(sessions, second, timeouts=TEST_TIMEOUTS)
    assert (await line(session, second)).fulfillment_status == LineStatus.QUEUED

    clock.advance(200)
    assert (await poll(sessions)).finished == 1
    assert await dispatch_line(sessions, second, timeouts=TEST_TIMEOUTS) == LineStatus.DISPATCHED
    assert [o.link for o in sandbox.orders] == [link, link]
