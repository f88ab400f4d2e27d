"""The primitives under the order commands: locking, transitions and their event rows.

Only commands (``app/*/commands.py``) call these; faces call commands. Each transition checks its map, stamps
the time, writes an ``order_event`` row and bumps the order's version once per unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defaultload, lazyload, raiseload
from sqlalchemy.orm.attributes import set_committed_value

from app.actors import Actor
from app.catalog.models import Service
from app.errors import NotFound
from app.i18n import N_, Message, message
from app.notifications.messages import write_order_completed
from app.orders.event_notes import Note, stored_note
from app.orders.models import EventKind, Order, OrderEvent, OrderLine
from app.orders.states import (
    FINAL_LINE_STATES,
    LINE_TRANSITIONS,
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    LineStatus,
    OrderStatus,
    PaymentStatus,
    check_transition,
    rolled_up_order_status,
)
from app.uow import UnitOfWork

CLOSING_STATES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.PARTIALLY_COMPLETED, OrderStatus.CANCELED, OrderStatus.EXPIRED}
)


def order_subject(order: Order) -> Message:
    return Message(N_("Order %(number)s"), {"number": order.number})


def line_subject(order: Order, line: OrderLine) -> Message:
    return Message(N_("Line %(position)s of order %(number)s"), {"position": line.position, "number": order.number})


# -- locking -----------------------------------------------------------------------------------------------------


# Adds columns (and their joins) to the lock statements, for a command that reads more with the orders.
Extend = Callable[[sa.Select[Any]], sa.Select[Any]]


@lru_cache(maxsize=16)
def _lock_statements(*, related: bool, extend: Extend | None) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The statements of ``lock_orders`` (orders with their lines; orders alone), built once per ``related`` and
    ``extend``."""
    order_options = [lazyload(Order.lines)]  # loaded once, locked, by the join (not twice, once unlocked)
    # The lines' services come joined; their provider mapping (a selectin load: one more query) is read only
    # where orders are placed, which loads it itself.
    line_options = [defaultload(OrderLine.service).lazyload(Service.provider_service)]
    if not related:
        order_options.append(raiseload(Order.customer, sql_only=True))
        line_options = [raiseload(OrderLine.service, sql_only=True), raiseload(OrderLine.provider, sql_only=True)]
    ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
    with_lines = (
        sa.select(Order, OrderLine)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.id.in_(ids))
        .order_by(Order.id, OrderLine.id)
        .with_for_update(of=[Order, OrderLine])
        .options(*order_options, *line_options)
        .execution_options(populate_existing=True)
    )
    alone = (
        sa.select(Order, sa.null())  # the place of the line
        .where(Order.id.in_(ids))
        .order_by(Order.id)
        .with_for_update(of=Order)
        .options(*order_options)
        .execution_options(populate_existing=True)
    )
    if extend is None:
        return with_lines, alone
    return extend(with_lines), extend(alone)


async def lock_orders(uow: UnitOfWork, order_ids: Iterable[int], *, related: bool = True) -> list[Order]:
    """The orders and all their lines, row-locked until the transaction ends, in ascending id order.

    One statement: the orders joined with their lines, ``ORDER BY`` order id then line id, so each order is locked
    before its lines and the orders in ascending order: two commands over overlapping orders queue behind each
    other instead of deadlocking. An order without lines (the join drops it) is locked by a second statement.
    Every id must exist.

    ``related=False``: the orders' customers and the lines' services and providers are not loaded with them
    (reading one that is not already in the session raises), for hot paths that only change statuses.
    """
    return [order for order, _ in await lock_orders_with(uow, order_ids, None, related=related)]


async def lock_orders_with(
    uow: UnitOfWork, order_ids: Iterable[int], extend: Extend | None, *, related: bool = True
) -> list[tuple[Order, Sequence[Any]]]:
    """:func:`lock_orders`, each order with the values of the columns ``extend`` adds to the statements (the
    same on each of its rows: of the order, not of its lines); ``extend`` must be one object, built once."""
    ids = sorted(set(order_ids))
    with_lines, alone = _lock_statements(related=related, extend=extend)
    orders: dict[int, tuple[Order, Sequence[Any]]] = {}
    by_order: dict[int, list[OrderLine]] = {}
    for order, line, *extra in (await uow.session.execute(with_lines, {"ids": ids})).tuples():
        orders[order.id] = (order, extra)
        by_order.setdefault(order.id, []).append(line)
    if len(orders) != len(ids):
        lineless = [order_id for order_id in ids if order_id not in orders]
        for order, _, *extra in await uow.session.execute(alone, {"ids": lineless}):
            orders[order.id] = (order, extra)
        missing = [order_id for order_id in ids if order_id not in orders]
        if missing:
            raise NotFound(N_("Order %(ids)s not found"), ids=", ".join(map(str, missing)))
    for order, _ in orders.values():
        set_committed_value(order, "lines", sorted(by_order.get(order.id, []), key=lambda line: line.position))
    uow.track(*(order for order, _ in orders.values()), *(line for lines in by_order.values() for line in lines))
    return [orders[order_id] for order_id in ids]


async def lock_lines(
    uow: UnitOfWork, line_ids: Iterable[int], *, related: bool = True
) -> list[tuple[Order, OrderLine]]:
    """The lines (with their orders locked first, see ``lock_orders``, also for ``related``), in ascending line id
    order."""
    ids = sorted(set(line_ids))
    rows = await uow.session.execute(sa.select(OrderLine.id, OrderLine.order_id).where(OrderLine.id.in_(ids)))
    owners = {row.id: row.order_id for row in rows}
    if len(owners) != len(ids):
        missing = sorted(set(ids) - set(owners))
        raise NotFound(N_("Order line %(ids)s not found"), ids=", ".join(map(str, missing)))
    orders = {order.id: order for order in await lock_orders(uow, owners.values(), related=related)}
    result = []
    for line_id in ids:
        order = orders[owners[line_id]]
        result.append((order, next(line for line in order.lines if line.id == line_id)))
    return result


# -- events ------------------------------------------------------------------------------------------------------


def record_event(
    uow: UnitOfWork,
    order: Order,
    kind: EventKind,
    actor: Actor,
    *,
    line: OrderLine | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    note: Note | None = None,
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    note_text, data = stored_note(note, data)
    event = OrderEvent(
        order_id=order.id,
        line_id=line.id if line is not None else None,
        kind=kind,
        from_state=str(from_state) if from_state is not None else None,
        to_state=str(to_state) if to_state is not None else None,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        note=note_text,
        data=data,
        at=uow.now(),
    )
    uow.session.add(event)
    uow.bump_version(order)
    return event


# -- transitions -------------------------------------------------------------------------------------------------


def set_status(uow: UnitOfWork, order: Order, target: OrderStatus, actor: Actor, note: Note | None = None) -> None:
    check_transition(order_subject(order), ORDER_TRANSITIONS, order.status, target)
    previous, order.status = order.status, target
    if target == OrderStatus.PAID:
        order.paid_at = order.paid_at or uow.now()
    if target in CLOSING_STATES:
        order.closed_at = uow.now()
    record_event(uow, order, EventKind.STATUS, actor, from_state=previous, to_state=target, note=note)


def set_payment_status(
    uow: UnitOfWork, order: Order, target: PaymentStatus, actor: Actor, note: Note | None = None
) -> None:
    subject = Message(N_("Payment of order %(number)s"), {"number": order.number})
    check_transition(subject, PAYMENT_TRANSITIONS, order.payment_status, target)
    previous, order.payment_status = order.payment_status, target
    record_event(uow, order, EventKind.PAYMENT_STATUS, actor, from_state=previous, to_state=target, note=note)


def set_line_status(
    uow: UnitOfWork,
    order: Order,
    line: OrderLine,
    target: LineStatus,
    actor: Actor,
    *,
    note: Note | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Move one line; starts the order's fulfillment on first dispatch and closes it when all lines end."""
    check_transition(line_subject(order, line), LINE_TRANSITIONS, line.fulfillment_status, target)
    previous, line.fulfillment_status = line.fulfillment_status, target
    now = uow.now()
    line.status_changed_at = now
    if target == LineStatus.DISPATCHED:
        line.dispatched_at = now
    if target in FINAL_LINE_STATES:
        line.finished_at = now
        line.next_poll_at = None
    record_event(
        uow, order, EventKind.LINE_STATUS, actor, line=line, from_state=previous, to_state=target, note=note, data=data
    )
    if target in (LineStatus.DISPATCHED, LineStatus.IN_PROGRESS) and order.status == OrderStatus.PAID:
        set_status(uow, order, OrderStatus.IN_FULFILLMENT, actor, note=N_("first line at the provider"))
    close_if_done(uow, order, actor, note)


def close_if_done(uow: UnitOfWork, order: Order, actor: Actor, note: Note | None) -> None:
    final = rolled_up_order_status([line.fulfillment_status for line in order.lines])
    if final is None or order.status not in (OrderStatus.PAID, OrderStatus.IN_FULFILLMENT):
        return
    if final != OrderStatus.CANCELED and order.status == OrderStatus.PAID:
        set_status(uow, order, OrderStatus.IN_FULFILLMENT, actor)
    finished = Message(N_("all lines finished: %(note)s"), {"note": message(note)}) if note else None
    set_status(uow, order, final, actor, note=finished or N_("all lines finished"))
    if final == OrderStatus.COMPLETED:
        write_order_completed(uow, order)


def lines_in(order: Order, states: Sequence[LineStatus] | frozenset[LineStatus]) -> list[OrderLine]:
    return [line for line in order.lines if line.fulfillment_status in states]
