"""The trail a flush writes: a command's order-event and audit rows arrive together, in order, all or none."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.actors import Actor, ActorKind
from app.audit.models import AuditLog
from app.orders import commands
from app.orders.lifecycle import lock_orders, record_event
from app.orders.models import EventKind, OrderEvent
from app.uow import UnitOfWork
from tests import factories


def trail_statements(engine: AsyncEngine) -> list[str]:
    """The statements that insert into audit_log or order_event, as they are sent from now on."""
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "INSERT INTO audit_log" in statement or "INSERT INTO order_event" in statement:
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    return sent


async def events_of(session: AsyncSession, order_id: int) -> list[OrderEvent]:
    return list(
        await session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
    )


async def test_a_paid_order_writes_its_events_and_audit_rows_in_one_statement(engine, session):
    service = await factories.service(session)
    links = ("https://www.instagram.com/p/first/", "https://www.instagram.com/p/second/")
    placed = await factories.place_order(session, items=[(service, 100, links[0]), (service, 200, links[1])])
    await session.commit()
    sent = trail_statements(engine)

    await commands.mark_paid(UnitOfWork(session), order_id=placed.order.id, actor=factories.TEST_ACTOR)
    await session.commit()

    assert len(sent) == 1
    kinds = [(row.kind, row.line_id, row.to_state) for row in await events_of(session, placed.order.id)]
    line_ids = [line.id for line in sorted(placed.order.lines, key=lambda line: line.position)]
    assert kinds[-4:] == [
        (EventKind.STATUS, None, "paid"),
        (EventKind.PAYMENT_STATUS, None, "paid"),
        (EventKind.LINE_STATUS, line_ids[0], "queued"),
        (EventKind.LINE_STATUS, line_ids[1], "queued"),
    ]
    audit = list(await session.scalars(sa.select(AuditLog).where(AuditLog.action == "mark-paid")))
    assert {row.entity_type for row in audit} == {"order", "order_line"}
    assert all(row.actor_kind == ActorKind.SYSTEM and row.at is not None for row in audit)


async def test_rows_given_up_with_a_savepoint_are_never_written(session):
    placed = await factories.place_order(session)
    await session.commit()
    order_id, actor, uow = placed.order.id, Actor.worker("test"), UnitOfWork(session)
    (order,) = await lock_orders(uow, [order_id])
    before = len(await events_of(session, order_id))

    savepoint = await session.begin_nested()
    record_event(uow, order, EventKind.NOTE, actor, note="given up before a flush")
    uow.audit(actor, "given-up", "order", order_id)
    await savepoint.rollback()
    (order,) = await lock_orders(uow, [order_id])  # a savepoint given up expires what it changed
    async with session.begin_nested() as flushed:
        record_event(uow, order, EventKind.NOTE, actor, note="flushed, then given up")
        await session.flush()
        await flushed.rollback()
    (order,) = await lock_orders(uow, [order_id])
    record_event(uow, order, EventKind.NOTE, actor, note="kept", data={"why": "committed"})
    await session.commit()

    notes = [(row.note, row.data) for row in await events_of(session, order_id)][before:]
    assert notes == [("kept", {"why": "committed"})]
    assert (
        await session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "given-up")) == 0
    )


async def test_rows_made_without_a_time_get_the_transaction_time(session):
    placed = await factories.place_order(session)
    session.add(OrderEvent(order_id=placed.order.id, kind=EventKind.NOTE, actor_kind=ActorKind.STAFF, note="by hand"))
    await session.commit()

    (by_hand,) = [row for row in await events_of(session, placed.order.id) if row.note == "by hand"]
    assert by_hand.at is not None
