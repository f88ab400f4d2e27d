"""One cheap statement that says whether anything the client's tracking page shows has changed.

The stamp of an order is made of what changes when its page would change: the order row (its version is
bumped with every event; its ``updated_at`` with every change of its columns), each line's ``updated_at``
(progress reports change counts without an event), each succeeded or pending refund's and each refill request's
``updated_at``, the invoices and how many of their PDFs are ready, the subscription's ``updated_at``, the
catalog version (services' names, speeds and refill windows and the company settings: triggers, migration
0012) and the follower snapshots of the Instagram profiles the page charts (``handles``: known from the last
rendering; a new handle changes a line, so it is in the stamp one request later). Rows' timestamps are
listed, not maximised: a change committed late with an earlier clock still changes the stamp.

The stamp is read before the page's data (``storefront/tracking_pages.py``): the data are at least as new as
the stamp, so a page is never kept under a stamp newer than what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from app.catalog.models import CatalogVersion
from app.fulfillment.models import RefillRequest
from app.instagram.models import InstagramSnapshot
from app.invoicing.models import Invoice
from app.orders.models import Order, OrderLine
from app.payments.models import Payment, Refund, Subscription

Stamp = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class TrackingStamp:
    order_id: int
    stamp: Stamp


def _pair(first: Any, second: Any) -> Any:
    return sa.cast(first, sa.Text) + ":" + sa.cast(second, sa.Text)


def _listed(column: Any, *, key: Any) -> Any:
    """The rows' ids and ``column`` as one text, in id order (NULL without rows)."""
    return sa.func.string_agg(_pair(key, column), aggregate_order_by(sa.literal_column("','"), key))


def _joined_rows(model: Any, parent: Any, link: Any, of_order: Any) -> Any:
    """The ids and ``updated_at`` of ``model``'s rows whose ``parent`` (joined on ``link``) is the order's."""
    return sa.select(_listed(model.updated_at, key=model.id)).join(parent, link).where(of_order).scalar_subquery()


@cache
def _stamp_statement() -> sa.Select[Any]:
    """The stamp's statement, built once (its compiled form is then cached by SQLAlchemy)."""
    order = Order.__table__.alias("o")
    lines = (
        sa.select(_listed(OrderLine.updated_at, key=OrderLine.id))
        .where(OrderLine.order_id == order.c.id)
        .scalar_subquery()
    )
    refunds = _joined_rows(Refund, Payment, Payment.id == Refund.payment_id, Payment.order_id == order.c.id)
    invoices = (
        sa.select(_pair(sa.func.count(), sa.func.count(Invoice.pdf_sha256)))
        .where(Invoice.order_id == order.c.id)
        .scalar_subquery()
    )
    refills = _joined_rows(
        RefillRequest, OrderLine, OrderLine.id == RefillRequest.order_line_id, OrderLine.order_id == order.c.id
    )
    subscription = (
        sa.select(Subscription.updated_at).where(Subscription.id == order.c.subscription_id).scalar_subquery()
    )
    catalog = sa.select(CatalogVersion.version).where(CatalogVersion.id == 1).scalar_subquery()
    snapshots = (
        sa.select(_pair(sa.func.min(InstagramSnapshot.id), sa.func.max(InstagramSnapshot.id)))
        .where(InstagramSnapshot.handle == sa.func.any(sa.bindparam("handles", type_=ARRAY(sa.String))))
        .scalar_subquery()
    )
    return sa.select(
        order.c.id,
        order.c.version,
        order.c.updated_at,
        lines,
        refunds,
        invoices,
        refills,
        subscription,
        catalog,
        snapshots,
    ).where(order.c.tracking_token_hash == sa.bindparam("token_hash", type_=sa.String))


async def tracking_stamp(connection: AsyncConnection, token_hash: str, handles: Sequence[str]) -> TrackingStamp | None:
    """The order behind a tracking token's hash and the stamp of its page; None for an unknown token."""
    found = await connection.execute(_stamp_statement(), {"token_hash": token_hash, "handles": list(handles)})
    row = found.one_or_none()
    if row is None:
        return None
    return TrackingStamp(order_id=row[0], stamp=tuple(row[1:]))
