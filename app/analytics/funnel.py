"""Anonymous funnel events: landing view, service view, checkout started, paid.

A visitor is a random id in a first-party cookie (``smplat_vid``): nothing about the person. Page views are
kept in a per-process buffer and written in batches (``COPY``) by a background task, every second or every
``batch_size`` views, so a page view costs no database write; a batch that cannot be written is logged and
dropped (the funnel is a statistic, pages must not suffer). "Checkout started" and "paid" are written inside
the unit of work of the checkout and of the payment, so they commit with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.analytics.models import FunnelEvent, FunnelKind
from app.db.row_writes import Companion
from app.uow import UnitOfWork

log = structlog.get_logger(__name__)

VISITOR_COOKIE = "smplat_vid"
VISITOR_COOKIE_MAX_AGE = 365 * 24 * 3600
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
COLUMNS = ("at", "kind", "visitor_id", "service_id", "order_id")

# (at, kind, visitor id, service id, order id): the row as COPY takes it.
Row = tuple[datetime, str, str | None, int | None, int | None]
Writer = Callable[[AsyncEngine, Sequence[Row]], Awaitable[None]]


def new_visitor_id() -> str:
    return secrets.token_urlsafe(16)


def visitor_cookie(visitor_id: str, *, secure: bool) -> str:
    """The ``Set-Cookie`` value for a new visitor id (written by hand: Litestar's ``Cookie`` costs ~100 µs)."""
    attributes = f"; Max-Age={VISITOR_COOKIE_MAX_AGE}; Path=/; SameSite=Lax; HttpOnly"
    return f"{VISITOR_COOKIE}={visitor_id}{attributes}{'; Secure' if secure else ''}"


def valid_visitor_id(value: str | None) -> str | None:
    """The cookie's value if it looks like an id we issued, else None (a new one is issued)."""
    return value if value and _VISITOR_ID.match(value) else None


async def copy_rows(engine: AsyncEngine, rows: Sequence[Row]) -> None:
    """One ``COPY`` of the rows (autocommitted), where an ORM insert costs far more.

    In visitor order: the trigger that counts visitors per day (``app/analytics/funnel_days.py``) locks each
    visitor in turn, so two batches at once take their locks in the same order and never wait for each other.
    """
    ordered = sorted(rows, key=lambda row: row[2] or "")
    async with engine.connect() as connection:
        raw: Any = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table("funnel_event", records=ordered, columns=COLUMNS)


class FunnelBuffer:
    """Page views of this process, waiting for the next batch write.

    ``max_pending`` bounds memory when the database is slow or away: views beyond it are counted and dropped.
    """

    def __init__(
        self,
        *,
        flush_every: float = 1.0,
        batch_size: int = 500,
        max_pending: int = 50_000,
        writer: Writer = copy_rows,
    ) -> None:
        self.flush_every = flush_every
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.writer = writer
        self.dropped = 0
        self._pending: list[Row] = []
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def record(self, kind: FunnelKind, visitor_id: str, service_id: int | None = None) -> None:
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append((datetime.now(UTC), kind.value, visitor_id, service_id, None))
        if len(self._pending) >= self.batch_size:
            self._full.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self, engine: AsyncEngine) -> int:
        """Write what is pending; returns how many rows were written (0 when the write failed)."""
        batch, self._pending = self._pending, []
        self._full.clear()
        if not batch:
            return 0
        try:
            await self.writer(engine, batch)
        except Exception:  # any failure: these views are lost, the pages go on
            self.dropped += len(batch)
            log.warning("funnel events dropped: the batch could not be written", events=len(batch), exc_info=True)
            return 0
        return len(batch)

    async def _run(self, engine: AsyncEngine) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), timeout=self.flush_every)
            await self.flush(engine)

    def start(self, engine: AsyncEngine) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(engine), name="funnel-flush")

    async def stop(self, engine: AsyncEngine) -> None:
        """Stop the background writer and write what is left."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush(engine)


async def record_checkout_started(
    uow: UnitOfWork, *, visitor_id: str | None, service_id: int | None, order_id: int
) -> None:
    """In the checkout's unit of work: this visitor started paying for this order."""
    await uow.session.execute(
        insert(FunnelEvent).values(
            at=uow.now(),
            kind=FunnelKind.CHECKOUT_STARTED,
            visitor_id=visitor_id,
            service_id=service_id,
            order_id=order_id,
        )
    )


# Text, not a Core construct: an INSERT … SELECT with literals is compiled again on every call (~5 ms).
_PAID_SQL = (
    "INSERT INTO funnel_event (at, kind, visitor_id, service_id, order_id) "
    "SELECT CAST(:{p}at AS timestamptz), 'paid', visitor_id, service_id, order_id FROM funnel_event "
    "WHERE order_id = :{p}order_id AND kind = 'checkout_started' ORDER BY id DESC LIMIT 1"
)


def paid_with_write(uow: UnitOfWork, *, order_id: int) -> Companion:
    """The order was paid, written with the payment's rows (``UnitOfWork.write``). Only orders a storefront visitor
    started count (the event carries that visitor and service); orders from links, the admin or the API are no
    funnel's."""
    return Companion("funnel", _PAID_SQL.format(p="funnel_"), {"funnel_at": uow.now(), "funnel_order_id": order_id})
