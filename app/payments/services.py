"""Questions about payments (no changes here: those are ``app/payments/commands.py``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.payments.models import Payment


async def checkout_attempts(session: AsyncSession, order_id: int) -> int:
    """How many checkouts were opened for an order (each new one gets its own idempotency key)."""
    count = await session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.order_id == order_id))
    return int(count or 0)
