"""The stored PDF of an invoice: rendered once and kept (the one write the invoice row accepts), then the same
bytes for every download and every mail."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from app.invoicing.commands import current_invoice_id
from app.invoicing.facturx import invoice_pdf
from app.invoicing.models import Invoice


def _locked(*conditions: Any) -> sa.Select[tuple[Invoice]]:
    return sa.select(Invoice).where(*conditions).with_for_update().options(undefer(Invoice.pdf))


async def ensure_pdf(session: AsyncSession, invoice: Invoice) -> bytes:
    """The PDF of an invoice this transaction has locked, rendered and stored first if it has none yet."""
    if invoice.pdf is None:
        referenced_id = invoice.corrects_invoice_id or invoice.replaces_invoice_id
        referenced = await session.get(Invoice, referenced_id) if referenced_id else None
        pdf = invoice_pdf(invoice, referenced)
        invoice.pdf, invoice.pdf_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
        await session.flush()
    return invoice.pdf


async def stored_pdf(session: AsyncSession, invoice_id: int) -> str | None:
    """In the caller's transaction: the invoice's PDF rendered and stored unless it has one; its SHA-256 (None: no
    such invoice)."""
    invoice = await session.scalar(_locked(Invoice.id == invoice_id))
    if invoice is None:
        return None
    await ensure_pdf(session, invoice)
    return invoice.pdf_sha256


async def store_pdf(sessions: async_sessionmaker[AsyncSession], invoice_id: int) -> str | None:
    """Render and store the invoice's PDF unless it has one; returns the stored SHA-256 (None: no such invoice)."""
    async with sessions() as session, session.begin():
        return await stored_pdf(session, invoice_id)


async def order_invoice_pdf(session: AsyncSession, order_id: int) -> tuple[str, bytes] | None:
    """(number, PDF) of the order's invoice in force, rendered now if its job has not run yet; None without one."""
    return await _number_and_pdf(session, Invoice.id == current_invoice_id(order_id))


async def refund_credit_note_pdf(session: AsyncSession, refund_id: int) -> tuple[str, bytes] | None:
    """(number, PDF) of a refund's credit note, rendered now if need be; None when the refund has none."""
    return await _number_and_pdf(session, Invoice.refund_id == refund_id)


async def invoice_pdf_by_id(session: AsyncSession, invoice_id: int) -> tuple[str, bytes] | None:
    """(number, PDF) of an invoice or credit note, rendered now if need be; None when there is no such row."""
    return await _number_and_pdf(session, Invoice.id == invoice_id)


async def _number_and_pdf(session: AsyncSession, *conditions: Any) -> tuple[str, bytes] | None:
    invoice = await session.scalar(_locked(*conditions))
    if invoice is None:
        return None
    return invoice.number, await ensure_pdf(session, invoice)
