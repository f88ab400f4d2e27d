"""Payment commands and webhook handling on real PostgreSQL: once-only, in any order, mismatches flagged."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.actors import Actor
from app.db.engine import session_factory
from app.orders.models import EventKind, Order, OrderEvent
from app.orders.states import LineStatus, OrderStatus, PaymentStatus
from app.payments import commands
from app.payments.gateway import CheckoutSession, WebhookEvent
from app.payments.models import Payment, PaymentMethod, PaymentRecordStatus, StripeEvent
from app.payments.webhooks import Handled, handle_event
from app.uow import UnitOfWork, unit_of_work
from tests import factories

STRIPE = Actor.system("test stripe")


def checkout_of(order: Order, *, session_id: str = "cs_test_1", paid: bool = True, **changes: Any) -> CheckoutSession:
    session = CheckoutSession(
        id=session_id,
        url=f"https://checkout.example/{session_id}",
        status="complete" if paid else "open",
        payment_status="paid" if paid else "unpaid",
        amount_total=order.gross,
        currency=order.currency,
        reference=str(order.id),
        payment_intent_id="pi_test_1" if paid else None,
        customer_id=None,
        subscription_id=None,
        metadata={"order_id": str(order.id)},
    )
    return replace(session, **changes)


def stripe_object(checkout: CheckoutSession) -> dict[str, Any]:
    return {
        "id": checkout.id,
        "object": "checkout.session",
        "status": checkout.status,
        "payment_status": checkout.payment_status,
        "amount_total": int(checkout.amount_total * 100),
        "currency": checkout.currency.lower(),
        "client_reference_id": checkout.reference,
        "payment_intent": checkout.payment_intent_id,
        "metadata": dict(checkout.metadata),
    }


def event_of(event_id: str, event_type: str, obj: dict[str, Any]) -> WebhookEvent:
    payload = {"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}
    return WebhookEvent(id=event_id, type=event_type, created=datetime.now(UTC), object=obj, payload=payload)


async def payments_of(session: AsyncSession, order_id: int) -> list[Payment]:
    rows = await session.scalars(
        sa.select(Payment).where(Payment.order_id == order_id).execution_options(populate_existing=True)
    )
    return list(rows.all())


async def reload(session: AsyncSession, order_id: int) -> Order:
    order = await session.scalar(sa.select(Order).where(Order.id == order_id).execution_options(populate_existing=True))
    assert order is not None
    return order


async def test_a_paid_checkout_pays_the_order_once_and_queues_its_lines(session: AsyncSession):
    order = (await factories.place_order(session)).order
    await commands.record_checkout(
        UnitOfWork(session),
        order_id=order.id,
        session=checkout_of(order, paid=False),
        actor=STRIPE,
        method=PaymentMethod.STRIPE,
    )
    first = await commands.fulfill_checkout(UnitOfWork(session), session=checkout_of(order), actor=STRIPE)
    again = await commands.fulfill_checkout(UnitOfWork(session), session=checkout_of(order), actor=STRIPE)

    assert first is not None and first.newly_paid
    assert again is not None and not again.newly_paid
    order = await reload(session, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PAID, PaymentStatus.PAID)
    assert {line.fulfillment_status for line in order.lines} == {LineStatus.QUEUED}
    (payment,) = await payments_of(session, order.id)
    assert payment.status == PaymentRecordStatus.SUCCEEDED and payment.amount == order.gross
    assert payment.stripe_payment_intent_id == "pi_test_1"


async def test_an_unpaid_completion_changes_nothing_until_the_payment_arrives(session: AsyncSession):
    order = (await factories.place_order(session)).order
    outcome = await commands.fulfill_checkout(UnitOfWork(session), session=checkout_of(order, paid=False), actor=STRIPE)
    assert outcome is not None and not outcome.newly_paid
    assert (await reload(session, order.id)).status == OrderStatus.PENDING_PAYMENT
    (payment,) = await payments_of(session, order.id)
    assert payment.status == PaymentRecordStatus.PENDING


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"amount_total": Decimal("0.01")}, "paid 0.01"),
        ({"currency": "USD"}, "paid in USD"),
    ],
)
async def test_a_payment_that_does_not_match_its_order_is_kept_but_not_applied(
    session: AsyncSession, changes: dict[str, Any], problem: str
):
    order = (await factories.place_order(session)).order
    outcome = await commands.fulfill_checkout(UnitOfWork(session), session=checkout_of(order, **changes), actor=STRIPE)

    assert outcome is not None and not outcome.newly_paid
    assert (await reload(session, order.id)).status == OrderStatus.PENDING_PAYMENT
    (payment,) = await payments_of(session, order.id)
    assert payment.status == PaymentRecordStatus.SUCCEEDED  # the money arrived: staff must see it
    notes = await session.scalars(
        sa.select(OrderEvent.note).where(OrderEvent.order_id == order.id, OrderEvent.kind == EventKind.NOTE)
    )
    assert any(problem in (note or "") for note in notes)


async def test_a_second_paid_checkout_for_a_paid_order_is_flagged_not_applied_twice(session: AsyncSession):
    order = (await factories.place_order(session)).order
    await commands.fulfill_checkout(UnitOfWork(session), session=checkout_of(order), actor=STRIPE)
    second = checkout_of(order, session_id="cs_test_2", payment_intent_id="pi_test_2")
    outcome = await commands.fulfill_checkout(UnitOfWork(session), session=second, actor=STRIPE)

    assert outcome is not None and not outcome.newly_paid
    assert len(await payments_of(session, order.id)) == 2
    paid_events = await session.scalar(
        sa.select(sa.func.count())
        .select_from(OrderEvent)
        .where(
            OrderEvent.order_id == order.id,
            OrderEvent.kind == EventKind.STATUS,
            OrderEvent.to_state == OrderStatus.PAID,
        )
    )
    assert paid_events == 1


async def test_an_expired_checkout_expires_its_order_unless_it_was_paid(session: AsyncSession):
    waiting = (await factories.place_order(session)).order
    paid = (await factories.place_order(session)).order
    await commands.fulfill_checkout(UnitOfWork(session), session=checkout_of(paid, session_id="cs_paid"), actor=STRIPE)

    await commands.close_checkout(UnitOfWork(session), session=checkout_of(waiting, paid=False), actor=STRIPE)
    await commands.close_checkout(
        UnitOfWork(session), session=checkout_of(paid, session_id="cs_paid", paid=False), actor=STRIPE
    )

    assert (await reload(session, waiting.id)).status == OrderStatus.EXPIRED
    assert (await reload(session, paid.id)).status == OrderStatus.PAID


async def test_a_checkout_for_no_order_of_ours_is_ignored(session: AsyncSession):
    order = (await factories.place_order(session)).order
    foreign = checkout_of(order, metadata={}, reference=None)
    assert await commands.fulfill_checkout(UnitOfWork(session), session=foreign, actor=STRIPE) is None
    assert await payments_of(session, order.id) == []


async def test_the_same_event_delivered_20_times_at_once_pays_once(engine: AsyncEngine, session: AsyncSession):
    order = (await factories.place_order(session)).order
    await session.commit()
    event = event_of("evt_same", "checkout.session.completed", stripe_object(checkout_of(order)))
    sessions = session_factory(engine)

    async def deliver() -> Handled:
        async with unit_of_work(sessions) as uow:
            return await handle_event(uow, event)

    results = await asyncio.gather(*(deliver() for _ in range(20)))

    assert sorted(results).count(Handled.PROCESSED) == 1
    assert results.count(Handled.DUPLICATE) == 19
    assert len(await payments_of(session, order.id)) == 1
    queued = await session.scalar(
        sa.select(sa.func.count())
        .select_from(OrderEvent)
        .where(OrderEvent.order_id == order.id, OrderEvent.to_state == LineStatus.QUEUED)
    )
    assert queued == len(order.lines)


async def test_events_in_any_order_converge(engine: AsyncEngine, session: AsyncSession):
    """Paid (async success) before the unpaid completion, then a late expiry: the order stays paid."""
    order = (await factories.place_order(session)).order
    await session.commit()
    checkout = checkout_of(order)
    events = [
        event_of("evt_1", "checkout.session.async_payment_succeeded", stripe_object(checkout)),
        event_of("evt_2", "checkout.session.completed", stripe_object(replace(checkout, payment_status="unpaid"))),
        event_of("evt_3", "checkout.session.expired", stripe_object(replace(checkout, payment_status="unpaid"))),
        event_of("evt_4", "customer.created", {"id": "cus_1", "object": "customer"}),
    ]
    sessions = session_factory(engine)
    handled = []
    for event in events:
        async with unit_of_work(sessions) as uow:
            handled.append(await handle_event(uow, event))

    assert handled == [Handled.PROCESSED, Handled.PROCESSED, Handled.PROCESSED, Handled.IGNORED]
    order = await reload(session, order.id)
    assert (order.status, order.payment_status) == (OrderStatus.PAID, PaymentStatus.PAID)
    recorded = await session.scalars(sa.select(StripeEvent).order_by(StripeEvent.id))
    assert [(row.id, row.processed_at is not None) for row in recorded] == [
        ("evt_1", True),
        ("evt_2", True),
        ("evt_3", True),
        ("evt_4", True),
    ]
