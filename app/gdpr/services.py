"""What the portal and the back office ask about exports and erasure requests (always by customer id)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.gdpr.models import DataExport, ErasureRequest, ErasureStatus, ExportStatus


async def latest_export(session: AsyncSession, customer_id: int) -> DataExport | None:
    found: DataExport | None = await session.scalar(
        sa.select(DataExport).where(DataExport.customer_id == customer_id).order_by(DataExport.id.desc()).limit(1)
    )
    return found


async def downloadable_export(
    session: AsyncSession, customer_id: int, export_id: int, now: datetime
) -> DataExport | None:
    """The client's own export while it is ready and its week runs (None: not theirs, not ready, or expired)."""
    found: DataExport | None = await session.scalar(
        sa.select(DataExport).where(
            DataExport.id == export_id,
            DataExport.customer_id == customer_id,
            DataExport.status == ExportStatus.READY,
            DataExport.expires_at > now,
        )
    )
    return found


async def open_erasure_request(session: AsyncSession, customer_id: int) -> ErasureRequest | None:
    found: ErasureRequest | None = await session.scalar(
        sa.select(ErasureRequest).where(
            ErasureRequest.customer_id == customer_id, ErasureRequest.status == ErasureStatus.REQUESTED
        )
    )
    return found
