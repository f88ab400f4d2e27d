"""Queries on invoices for the faces (back office, later the tracking page and the portal)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.invoicing.models import Invoice


async def invoices_of_order(session: AsyncSession, order_id: int) -> Sequence[Invoice]:
    """The order's invoice and credit notes, oldest first (their PDFs are not loaded)."""
    rows = await session.scalars(sa.select(Invoice).where(Invoice.order_id == order_id).order_by(Invoice.id))
    return rows.all()
