"""Paid lines for dispatch tests, and a look at the job queue."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Service
from app.invoicing.tax import TaxDecision
from app.orders import commands
from app.orders.models import EventKind, OrderEvent, OrderLine, OrderSource
from app.orders.placing import LineInput
from app.uow import UnitOfWork
from tests import factories

_links = itertools.count(1)


def new_link() -> str:
    return f"https://www.instagram.com/p/post{next(_links)}/"


async def paid_lines(session: AsyncSession, items: list[LineInput]) -> list[int]:
    """One paid order with these lines (committed); their ids."""
    buyer = await factories.customer(session)
    placed = await commands.place_order(
        UnitOfWork(session),
        customer_id=buyer.id,
        items=items,
        source=OrderSource.ADMIN,
        actor=factories.TEST_ACTOR,
        tax=TaxDecision.domestic(),
    )
    order = await commands.mark_paid(UnitOfWork(session), order_id=placed.order.id, actor=factories.TEST_ACTOR)
    ids = [line.id for line in order.lines]
    await session.commit()
    return ids


async def paid_line(
    session: AsyncSession, service: Service, quantity: int = 1000, link: str | None = None, **kw: object
) -> int:
    (line_id,) = await paid_lines(session, [LineInput(service.id, link or new_link(), quantity, **kw)])  # type: ignore[arg-type]
    return line_id


async def dispatch_jobs(session: AsyncSession, line_id: int) -> list[tuple[str, bool]]:
    """(status, scheduled in the future) of the line's dispatch jobs."""
    rows = await session.execute(
        sa.text(
            "SELECT status::text, coalesce(scheduled_at > now(), false) FROM procrastinate_jobs "
            "WHERE task_name = 'fulfillment.dispatch_line' AND (args->>'line_id')::int = :id ORDER BY id"
        ),
        {"id": line_id},
    )
    await session.commit()
    return [(status, bool(later)) for status, later in rows]


async def worker_took_jobs(session: AsyncSession, line_id: int | None = None) -> None:
    """The dispatch jobs waiting now (or only ``line_id``'s) are being run, as when the worker calls
    ``dispatch_line``: a line sent again then gets a job of its own instead of collapsing into the running one."""
    only_line = "" if line_id is None else " AND (args->>'line_id')::int = :id"
    await session.execute(
        sa.text(f"UPDATE procrastinate_jobs SET status = 'doing' WHERE status = 'todo'{only_line}"), {"id": line_id}
    )
    await session.commit()


async def line_events(session: AsyncSession, line_id: int) -> list[OrderEvent]:
    rows = await session.scalars(sa.select(OrderEvent).where(OrderEvent.line_id == line_id).order_by(OrderEvent.id))
    return list(rows.unique())


async def line(session: AsyncSession, line_id: int) -> OrderLine:
    found = await session.scalar(
        sa.select(OrderLine).where(OrderLine.id == line_id).execution_options(populate_existing=True)
    )
    assert found is not None
    return found


__all__ = [
    "EventKind",
    "dispatch_jobs",
    "line",
    "line_events",
    "new_link",
    "paid_line",
    "paid_lines",
    "worker_took_jobs",
]
