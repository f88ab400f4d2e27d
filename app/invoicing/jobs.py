"""Invoicing jobs: render an issued invoice's PDF and store it, the one write its row accepts (once)."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from app.invoicing.commands import RENDER_QUEUE, RENDER_TASK
from app.invoicing.models import Invoice
from app.invoicing.pdf import render_invoice
from app.jobs import job_app, job_sessions


async def store_pdf(sessions: async_sessionmaker[AsyncSession], invoice_id: int) -> str | None:
    """Render and store the invoice's PDF unless it has one; returns the stored SHA-256 (None: no such invoice)."""
    async with sessions() as session, session.begin():
        invoice = await session.scalar(
            sa.select(Invoice).where(Invoice.id == invoice_id).with_for_update().options(undefer(Invoice.pdf))
        )
        if invoice is None:
            return None
        if invoice.pdf is None:
            corrects = await session.get(Invoice, invoice.corrects_invoice_id) if invoice.corrects_invoice_id else None
            pdf = render_invoice(invoice, corrects)
            invoice.pdf, invoice.pdf_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
        return invoice.pdf_sha256


@job_app.task(name=RENDER_TASK, queue=RENDER_QUEUE)
async def render_invoice_pdf(invoice_id: int) -> str | None:
    return await store_pdf(job_sessions(), invoice_id)
