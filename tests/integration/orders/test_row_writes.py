"""A hot command's changes in one statement (``UnitOfWork.write``), and the orders locked with their lines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.models import AuditLog
from app.errors import NotFound
from app.orders import lifecycle
from app.orders.lifecycle import lock_orders
from app.orders.models import EventKind, Order, OrderEvent, OrderLine
from app.orders.states import LineStatus, OrderStatus
from app.uow import UnitOfWork
from tests import factories


def statements(engine: AsyncEngine) -> list[str]:
    """The statements sent from now on."""
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    return sent


async def two_line_order(session: AsyncSession) -> int:
    service = await factories.service(session)
    items = [(service, 100, "https://www.instagram.com/p/one/"), (service, 200, "https://www.instagram.com/p/two/")]
    placed = await factories.place_order(session, items=items)
    await session.commit()
    return placed.order.id


async def test_changed_rows_and_their_trail_are_written_in_one_statement_and_left_clean(
    engine: AsyncEngine, session: AsyncSession
):
    order_id = await two_line_order(session)
    uow = UnitOfWork(session)
    (order,) = await lock_orders(uow, [order_id], related=False)
    stamped_before = order.updated_at
    sent = statements(engine)

    lifecycle.set_status(uow, order, OrderStatus.PAID, factories.TEST_ACTOR, note="paid by hand")
    for line in order.lines:
        lifecycle.set_line_status(uow, order, line, LineStatus.QUEUED, factories.TEST_ACTOR)
    uow.audit_changes(factories.TEST_ACTOR, "test-write")
    await uow.write(order, *order.lines, order)  # a row given twice is written once

    assert len(sent) == 1
    assert not session.dirty
    assert not session.new
    await session.commit()
    assert len(sent) == 1  # the commit's flush found nothing left to send

    async with AsyncSession(engine) as fresh:
        stored = await fresh.get_one(Order, order_id)
        lines = list(await fresh.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id)))
        kinds = list(
            await fresh.scalars(
                sa.select(OrderEvent.kind).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
            )
        )
        audited = set(await fresh.scalars(sa.select(AuditLog.entity_type).where(AuditLog.action == "test-write")))
    assert (stored.status, stored.version, stored.paid_at) == (OrderStatus.PAID, order.version, order.paid_at)
    assert stored.updated_at > stamped_before
    assert {line.fulfillment_status for line in lines} == {LineStatus.QUEUED}
    assert kinds[-3:] == [EventKind.STATUS, EventKind.LINE_STATUS, EventKind.LINE_STATUS]
    assert audited == {"order", "order_line"}


async def test_rows_without_changes_write_only_the_trail(engine: AsyncEngine, session: AsyncSession):
    order_id = await two_line_order(session)
    uow = UnitOfWork(session)
    (order,) = await lock_orders(uow, [order_id])
    version = order.version
    sent = statements(engine)

    uow.audit(factories.TEST_ACTOR, "test-note", "order", order_id)
    await uow.write(order)
    await session.commit()

    assert len(sent) == 1
    assert "UPDATE" not in sent[0]
    async with AsyncSession(engine) as fresh:
        assert (await fresh.get_one(Order, order_id)).version == version
        assert await fresh.scalar(sa.select(sa.func.count()).where(AuditLog.action == "test-note")) == 1


async def test_orders_are_locked_with_their_lines_in_one_statement(engine: AsyncEngine, session: AsyncSession):
    first, second = await two_line_order(session), await two_line_order(session)
    sent = statements(engine)

    orders = await lock_orders(UnitOfWork(session), [second, first, second])

    assert [order.id for order in orders] == [first, second]
    assert [len(order.lines) for order in orders] == [2, 2]
    assert all(order.lines == sorted(order.lines, key=lambda line: line.position) for order in orders)
    assert len([statement for statement in sent if "FOR UPDATE" in statement]) == 1


async def test_an_order_without_lines_is_locked_too_and_an_unknown_one_is_not_found(session: AsyncSession):
    order_id = await two_line_order(session)
    await session.execute(sa.delete(OrderLine).where(OrderLine.order_id == order_id))
    await session.commit()

    (order,) = await lock_orders(UnitOfWork(session), [order_id])
    assert (order.id, order.lines) == (order_id, [])
    with pytest.raises(NotFound):
        await lock_orders(UnitOfWork(session), [order_id, order_id + 1000])
