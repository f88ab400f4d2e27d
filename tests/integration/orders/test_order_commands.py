"""Order commands on real PostgreSQL: events and audit rows per change, refusals change nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.accounts.models import Role, StaffUser
from app.actors import Actor, ActorKind
from app.audit.models import AuditLog
from app.catalog.models import ServiceKind
from app.db.engine import session_factory
from app.errors import DomainError, InvalidTransition, ValidationFailed
from app.fulfillment import commands as fulfillment
from app.fulfillment.commands import DispatchResult, UpstreamProgress
from app.invoicing.tax import TaxDecision
from app.orders import commands
from app.orders.models import EventKind, Order, OrderEvent, OrderSource
from app.orders.numbers import ORDER_NUMBER
from app.orders.placing import LineInput
from app.orders.services import OrderService
from app.orders.states import LineStatus, OrderStatus, PaymentStatus
from app.uow import UnitOfWork, unit_of_work
from tests import factories

STAFF = Actor.staff(1, "staff@smplat.example")


@pytest.fixture(autouse=True)
async def staff_member(engine: AsyncEngine) -> None:
    """The staff account behind STAFF (audit rows refer to it)."""
    async with session_factory(engine)() as session, session.begin():
        session.add(StaffUser(id=1, email="staff@smplat.example", password_hash="x", role=Role.STAFF))


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
    line = order.lines[0]
    uow = UnitOfWork(session)
    await fulfillment.start_dispatch(uow, line_id=line.id, actor=STAFF)
    await fulfillment.record_dispatch(
        uow, line_id=line.id, actor=STAFF, result=DispatchResult.ACCEPTED, provider_order_id="123"
    )
    await fulfillment.record_progress(
        uow, line_id=line.id, actor=STAFF, progress=UpstreamProgress(LineStatus.COMPLETED, 10, 0)
    )

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
    before = len(await events_of(session, order_id))

    with pytest.raises(InvalidTransition, match="awaiting payment to in progress"):
        await fulfillment.record_progress(
            UnitOfWork(session),
            line_id=placed.order.lines[0].id,
            actor=STAFF,
            progress=UpstreamProgress(LineStatus.IN_PROGRESS),
        )
    await session.rollback()

    reloaded = await OrderService(session=session).get_order(order_id)
    assert reloaded.status == OrderStatus.PENDING_PAYMENT
    assert len(await events_of(session, order_id)) == before


async def test_canceling_a_completed_order_is_refused(session: AsyncSession):
    order = await factories.paid_order(session)
    await factories.move_line(
        session, order.lines[0].id, LineStatus.DISPATCHING, LineStatus.DISPATCHED, LineStatus.COMPLETED
    )
    with pytest.raises(InvalidTransition, match="completed to canceled"):
        await commands.cancel_orders(UnitOfWork(session), order_ids=[order.id], actor=STAFF, reason="too late")


async def test_cancel_refuses_while_a_line_is_at_the_provider(session: AsyncSession):
    order = await factories.paid_order(session)
    await factories.move_line(session, order.lines[0].id, LineStatus.DISPATCHING)
    with pytest.raises(DomainError, match="at the provider"):
        await commands.cancel_orders(UnitOfWork(session), order_ids=[order.id], actor=STAFF, reason="changed mind")
    assert order.status == OrderStatus.PAID


async def test_cancel_of_a_paid_order_cancels_open_lines_and_the_order(session: AsyncSession):
    order = await factories.paid_order(session)
    outcomes = await commands.cancel_orders(
        UnitOfWork(session), order_ids=[order.id], actor=STAFF, reason="customer asked"
    )
    assert outcomes == [commands.OrderOutcome(order.number, OrderStatus.CANCELED)]
    assert order.status == OrderStatus.CANCELED
    assert order.lines[0].fulfillment_status == LineStatus.CANCELED
    notes = [e.note for e in await events_of(session, order.id) if e.to_state == "canceled"]
    assert len(notes) == 2
    assert all("customer asked" in note for note in notes)


async def test_hold_and_resume_a_queued_line(session: AsyncSession):
    order = await factories.paid_order(session)
    line_id = order.lines[0].id
    uow = UnitOfWork(session)
    await commands.hold_lines(uow, line_ids=[line_id], actor=STAFF, reason="wait for launch")
    assert order.lines[0].fulfillment_status == LineStatus.ON_HOLD
    await commands.resume_lines(uow, line_ids=[line_id], actor=STAFF)
    assert order.lines[0].fulfillment_status == LineStatus.QUEUED
    with pytest.raises(DomainError, match="not on hold"):
        await commands.resume_lines(uow, line_ids=[line_id], actor=STAFF)


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
    placed = await commands.place_order(
        UnitOfWork(session),
        customer_id=buyer.id,
        items=[LineInput(service_id=service.id, quantity=0, link="@shop", comments="Great!\n\n  Love it  \nWow\n")],
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
    await fulfillment.start_dispatch(UnitOfWork(session), line_id=first.lines[0].id, actor=STAFF)
    await session.commit()
    with pytest.raises(Exception, match="uq_order_line_active_upstream"):
        await fulfillment.start_dispatch(UnitOfWork(session), line_id=second.lines[0].id, actor=STAFF)


async def audit_of(session: AsyncSession, **where: object) -> list[AuditLog]:
    stmt = sa.select(AuditLog).filter_by(**where).order_by(AuditLog.id).execution_options(populate_existing=True)
    return list((await session.scalars(stmt)).all())


async def test_a_batch_writes_one_audit_row_per_changed_record_with_its_diff(session: AsyncSession):
    orders = [await factories.paid_order(session) for _ in range(15)]
    await commands.cancel_orders(
        UnitOfWork(session, ip="203.0.113.9"), order_ids=[o.id for o in orders], actor=STAFF, reason="duplicate"
    )

    rows = await audit_of(session, action="cancel-order")
    assert sorted((r.entity_type, r.entity_id) for r in rows) == sorted(
        [("order", str(o.id)) for o in orders] + [("order_line", str(o.lines[0].id)) for o in orders]
    )
    order_row = next(r for r in rows if r.entity_type == "order")
    assert order_row.diff["status"] == {"before": "paid", "after": "canceled"}
    assert order_row.diff["reason"] == "duplicate"
    assert (order_row.actor_kind, order_row.actor_id, order_row.ip) == (ActorKind.STAFF, 1, "203.0.113.9")


async def test_every_change_bumps_the_order_version_once(session: AsyncSession):
    order = await factories.paid_order(session)
    version = order.version
    await commands.cancel_orders(UnitOfWork(session), order_ids=[order.id], actor=STAFF, reason="asked")
    assert order.version == version + 1


async def test_canceling_a_partly_delivered_order_closes_it_as_partially_completed(session: AsyncSession):
    first, second = await factories.service(session), await factories.service(session)
    order = await factories.paid_order(
        session,
        items=[(first, 1000, "https://www.instagram.com/p/a/"), (second, 1000, "https://www.instagram.com/p/b/")],
    )
    await factories.move_line(
        session, order.lines[0].id, LineStatus.DISPATCHING, LineStatus.DISPATCHED, LineStatus.COMPLETED
    )

    outcomes = await commands.cancel_orders(UnitOfWork(session), order_ids=[order.id], actor=STAFF, reason="enough")

    assert outcomes == [commands.OrderOutcome(order.number, OrderStatus.PARTIALLY_COMPLETED)]
    assert [line.fulfillment_status for line in order.lines] == [LineStatus.COMPLETED, LineStatus.CANCELED]


async def test_a_batch_with_one_refusal_changes_nothing(session: AsyncSession):
    good, bad = await factories.paid_order(session), await factories.paid_order(session)
    await factories.move_line(session, bad.lines[0].id, LineStatus.DISPATCHING)
    good_id, bad_id = good.id, bad.id
    await session.commit()

    with pytest.raises(DomainError, match="at the provider"):
        async with session.begin():
            await commands.cancel_orders(UnitOfWork(session), order_ids=[good_id, bad_id], actor=STAFF, reason="x")

    assert (await OrderService(session=session).get_order(good_id)).status == OrderStatus.PAID
    assert await audit_of(session, action="cancel-order") == []


COMMANDS = {
    "mark-paid": lambda uow, order: commands.mark_paid(uow, order_id=order.id, actor=STAFF),
    "cancel-order": lambda uow, order: commands.cancel_orders(uow, order_ids=[order.id], actor=STAFF, reason="r"),
    "add-note": lambda uow, order: commands.add_note(uow, order_ids=[order.id], actor=STAFF, note="n"),
    "expire-order": lambda uow, order: commands.expire_order(uow, order_id=order.id, actor=STAFF),
    "renew-tracking-link": lambda uow, order: commands.renew_tracking_link(uow, order_id=order.id, actor=STAFF),
}


@pytest.mark.parametrize("name", list(COMMANDS))
async def test_a_failure_after_a_command_leaves_neither_its_events_nor_its_audit_rows(engine: AsyncEngine, name):
    async with session_factory(engine)() as setup, setup.begin():
        placed = (await factories.place_order(setup)).order
        order_id, version = placed.id, placed.version
    sessions = session_factory(engine)
    async with sessions() as session:
        events_before = len(await events_of(session, order_id))

    class Boom(Exception):
        pass

    async def command_then_failure() -> None:
        async with unit_of_work(sessions) as uow:
            order = await OrderService(session=uow.session).get_order(order_id)
            await COMMANDS[name](uow, order)
            assert await audit_of(uow.session, action=name), "the command wrote no audit row"
            raise Boom

    with pytest.raises(Boom):
        await command_then_failure()

    async with sessions() as session:
        assert len(await events_of(session, order_id)) == events_before
        assert await audit_of(session, action=name) == []
        assert (await OrderService(session=session).get_order(order_id)).version == version
