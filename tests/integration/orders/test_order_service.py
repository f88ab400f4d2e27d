"""Orders through the domain service, on real PostgreSQL: events per transition, refusals change nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.actors import Actor
from app.catalog.models import ServiceKind
from app.db.engine import session_factory
from app.errors import DomainError, InvalidTransition, ValidationFailed
from app.orders.models import EventKind, Order, OrderEvent
from app.orders.numbers import ORDER_NUMBER
from app.orders.services import OrderService
from app.orders.states import LineStatus, OrderStatus, PaymentStatus
from tests import factories

STAFF = Actor.staff(1, "staff@smplat.example")


async def events_of(session: AsyncSession, order_id: int) -> list[OrderEvent]:
    rows = await session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
    return list(rows.unique().all())


async def test_placing_an_order_prices_lines_numbers_it_and_writes_a_created_event(session: AsyncSession):
    service = await factories.service(session, price="2.9000")
    placed = await factories.place_order(session, items=[(service, 1500, "@lena.schmidt")])
    order = placed.order

    assert ORDER_NUMBER.match(order.number)
    assert order.status == OrderStatus.PENDING_PAYMENT and order.payment_status == PaymentStatus.UNPAID
    assert (order.net, order.tax, order.gross) == (Decimal("4.35"), Decimal("0.83"), Decimal("5.18"))
    assert order.lines[0].link == "https://www.instagram.com/lena.schmidt/"
    assert order.lines[0].fulfillment_status == LineStatus.AWAITING_PAYMENT
    assert placed.tracking_token and len(placed.tracking_token) >= 32
    assert order.tracking_token_hash != placed.tracking_token

    events = await events_of(session, order.id)
    assert [(e.kind, e.to_state) for e in events] == [(EventKind.CREATED, "pending_payment")]
    assert events[0].actor_label == "test"


async def test_every_transition_writes_an_event_with_actor_and_states(session: AsyncSession):
    order = await factories.paid_order(session)
    orders = OrderService(session=session)
    line = order.lines[0]
    await orders.set_line_status(order, line, LineStatus.DISPATCHING, actor=STAFF)
    await orders.set_line_status(order, line, LineStatus.DISPATCHED, actor=STAFF, note="upstream 123")
    await orders.set_line_status(order, line, LineStatus.COMPLETED, actor=STAFF)

    assert order.status == OrderStatus.COMPLETED
    transitions = [(e.kind, e.from_state, e.to_state) for e in await events_of(session, order.id)]
    assert transitions == [
        (EventKind.CREATED, None, "pending_payment"),
        (EventKind.STATUS, "pending_payment", "paid"),
        (EventKind.PAYMENT_STATUS, "unpaid", "paid"),
        (EventKind.LINE_STATUS, "awaiting_payment", "queued"),
        (EventKind.LINE_STATUS, "queued", "dispatching"),
        (EventKind.LINE_STATUS, "dispatching", "dispatched"),
        (EventKind.STATUS, "paid", "in_fulfillment"),
        (EventKind.LINE_STATUS, "dispatched", "completed"),
        (EventKind.STATUS, "in_fulfillment", "completed"),
    ]
    staff_events = [e for e in await events_of(session, order.id) if e.actor_id == "1"]
    assert staff_events and all(e.actor_label == "staff@smplat.example" for e in staff_events)


async def test_illegal_transition_changes_nothing(session: AsyncSession):
    placed = await factories.place_order(session)
    order_id = placed.order.id
    await session.commit()
    orders = OrderService(session=session)
    order = await orders.lock_order(order_id)
    before = len(await events_of(session, order_id))

    with pytest.raises(InvalidTransition, match="pending payment to completed"):
        await orders.set_status(order, OrderStatus.COMPLETED, actor=STAFF)
    await session.rollback()

    reloaded = await OrderService(session=session).get_order(order_id)
    assert reloaded.status == OrderStatus.PENDING_PAYMENT
    assert len(await events_of(session, order_id)) == before


async def test_canceling_a_completed_order_is_refused(session: AsyncSession):
    order = await factories.paid_order(session)
    orders = OrderService(session=session)
    for target in (LineStatus.DISPATCHING, LineStatus.DISPATCHED, LineStatus.COMPLETED):
        await orders.set_line_status(order, order.lines[0], target, actor=STAFF)
    with pytest.raises(InvalidTransition, match="completed to canceled"):
        await orders.cancel_order(order, actor=STAFF, reason="too late")


async def test_cancel_refuses_while_a_line_is_at_the_provider(session: AsyncSession):
    order = await factories.paid_order(session)
    orders = OrderService(session=session)
    await orders.set_line_status(order, order.lines[0], LineStatus.DISPATCHING, actor=STAFF)
    with pytest.raises(DomainError, match="at the provider"):
        await orders.cancel_order(order, actor=STAFF, reason="changed mind")
    assert order.status == OrderStatus.PAID


async def test_cancel_of_a_paid_order_cancels_open_lines_and_the_order(session: AsyncSession):
    order = await factories.paid_order(session)
    await OrderService(session=session).cancel_order(order, actor=STAFF, reason="customer asked")
    assert order.status == OrderStatus.CANCELED
    assert order.lines[0].fulfillment_status == LineStatus.CANCELED
    notes = [e.note for e in await events_of(session, order.id) if e.to_state == "canceled"]
    assert len(notes) == 2
    assert all("customer asked" in note for note in notes)


async def test_hold_and_resume_a_queued_line(session: AsyncSession):
    order = await factories.paid_order(session)
    orders = OrderService(session=session)
    await orders.hold_line(order, order.lines[0], actor=STAFF, reason="wait for launch")
    assert order.lines[0].fulfillment_status == LineStatus.ON_HOLD
    await orders.resume_line(order, order.lines[0], actor=STAFF)
    assert order.lines[0].fulfillment_status == LineStatus.QUEUED
    with pytest.raises(DomainError, match="not on hold"):
        await orders.resume_line(order, order.lines[0], actor=STAFF)


async def test_quantity_outside_the_service_bounds_is_refused_per_field(session: AsyncSession):
    service = await factories.service(session, min_quantity=100, max_quantity=1000)
    with pytest.raises(ValidationFailed) as excinfo:
        await factories.place_order(session, items=[(service, 5000, "https://www.instagram.com/x/")])
    assert excinfo.value.field_errors() == {"lines[0].quantity": "must be between 100 and 1000"}
    assert await session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


async def test_custom_comments_count_as_quantity(session: AsyncSession):
    service = await factories.service(
        session, kind=ServiceKind.CUSTOM_COMMENTS, price="40.0000", min_quantity=2, max_quantity=100
    )
    buyer = await factories.customer(session)
    from app.invoicing.tax import TaxDecision
    from app.orders.models import OrderSource
    from app.orders.services import LineInput

    placed = await OrderService(session=session).place_order(
        customer=buyer,
        items=[LineInput(service=service, quantity=0, link="@shop", comments="Great!\n\n  Love it  \nWow\n")],
        source=OrderSource.ADMIN,
        actor=STAFF,
        tax=TaxDecision.domestic(),
    )
    line = placed.order.lines[0]
    assert line.quantity == 3 and line.comments == "Great!\nLove it\nWow"
    assert line.net == Decimal("0.12")


async def test_idempotency_key_returns_the_first_order(session: AsyncSession):
    first = await factories.place_order(session, idempotency_key="checkout:abc")
    again = await factories.place_order(session, idempotency_key="checkout:abc")
    assert again.order.id == first.order.id and not again.created and again.tracking_token is None


async def test_fifty_concurrent_orders_get_fifty_distinct_numbers(engine: AsyncEngine):
    async with session_factory(engine)() as setup, setup.begin():
        service = await factories.service(setup)
        buyer = await factories.customer(setup)
        service_id, buyer_id = service.id, buyer.id

    async def place(n: int) -> str:
        async with session_factory(engine)() as session, session.begin():
            svc = await factories.reload_service(session, service_id)
            from app.customers.models import Customer

            customer = await session.get(Customer, buyer_id)
            placed = await factories.place_order(
                session, buyer=customer, items=[(svc, 1000, f"https://www.instagram.com/p/c{n}/")]
            )
            return placed.order.number

    numbers = await asyncio.gather(*(place(n) for n in range(50)))
    assert len(set(numbers)) == 50
    assert all(ORDER_NUMBER.match(number) for number in numbers)


async def test_order_events_are_append_only(session: AsyncSession):
    placed = await factories.place_order(session)
    order_id = placed.order.id
    await session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        await session.execute(sa.update(OrderEvent).values(note="rewritten"))
    await session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        await session.execute(sa.delete(OrderEvent).where(OrderEvent.order_id == order_id))


async def test_two_active_upstream_lines_for_one_link_and_service_are_impossible(session: AsyncSession):
    upstream = await factories.provider_service(session, await factories.provider(session))
    service = await factories.service(session, upstream=upstream)
    link = "https://www.instagram.com/same/"
    first = await factories.paid_order(session, items=[(service, 1000, link)])
    second = await factories.paid_order(session, items=[(service, 1000, link)])
    orders = OrderService(session=session)
    await orders.set_line_status(first, first.lines[0], LineStatus.DISPATCHING, actor=STAFF)
    await session.commit()
    with pytest.raises(Exception, match="uq_order_line_active_upstream"):
        await orders.set_line_status(second, second.lines[0], LineStatus.DISPATCHING, actor=STAFF)
