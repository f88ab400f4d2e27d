"""Bookkeeping timeliness: invoices and credit notes and how soon each reached Lexware Office.

Documents count in the bucket they were issued in (Berlin). Columns: ``period`` (unless one bucket),
``documents`` (invoices and credit notes issued), ``synced_within_24h`` (their voucher and file in Lexware Office
within 24 hours of issue), ``synced_within_24h_percent``, ``unsynced`` (not in Lexware Office yet) and
``sync_failures`` (whose sync stands failed now, waiting for a retry or for staff).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Translate
from reports.load import Schema, copy_frame
from reports.periods import bucket_args, bucket_sql, period_column
from reports.revenue import Selection, percent

COUNTS = ("documents", "synced_within_24h", "unsynced", "sync_failures")


async def bookkeeping(session: AsyncSession, selection: Selection, _translate: Translate) -> pl.DataFrame:
    query = (
        f"SELECT {bucket_sql(selection.grouping, 'i.issued_at')}, count(*), "  # noqa: S608 - constants only
        "count(*) FILTER (WHERE s.synced_at <= i.issued_at + interval '24 hours'), "
        "count(*) FILTER (WHERE s.synced_at IS NULL), count(*) FILTER (WHERE s.status = 'failed') "
        "FROM invoice i LEFT JOIN lexoffice_sync s ON s.invoice_id = i.id "
        "WHERE i.issued_at >= $1 AND i.issued_at < $2 GROUP BY 1"
    )
    schema: Schema = {"period_start": pl.Date, **dict.fromkeys(COUNTS, pl.Int64)}
    frame = await copy_frame(session, query, bucket_args(selection.period, selection.grouping), schema)
    frame = frame.sort("period_start").with_columns(synced_within_24h_percent=percent("synced_within_24h", "documents"))
    return frame.select(
        *period_column(selection.grouping),
        "documents",
        "synced_within_24h",
        "synced_within_24h_percent",
        "unsynced",
        "sync_failures",
    )
