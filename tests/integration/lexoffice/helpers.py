"""Rendered invoices to sync, and the app pointed at a loopback Lexware Office."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import get_settings, use_settings
from app.invoicing.models import Invoice
from app.invoicing.storage import store_pdf
from app.lexoffice.models import LexofficeSync
from app.sandbox.lexoffice import SandboxLexoffice
from app.uow import UnitOfWork
from tests import factories
from tests.integration.invoicing.helpers import invoices_of, pay

QUICK_RETRIES = (0.05, 0.05, 0.05)


@contextmanager
def pointed_at(sandbox: SandboxLexoffice) -> Iterator[None]:
    previous = use_settings(replace(get_settings(), lexoffice_api_key=sandbox.api_key, lexoffice_base_url=sandbox.url))
    try:
        yield
    finally:
        use_settings(previous)


async def paid_invoice(session: AsyncSession) -> Invoice:
    """Gross 11.90 (net 10.00 at 19 %), committed, its PDF not rendered yet."""
    await factories.company_settings(session)
    service = await factories.service(session, price="2.5000")
    order = (await factories.place_order(session, items=[(service, 4000, "https://www.instagram.com/p/a/")])).order
    await pay(UnitOfWork(session), order)
    await session.commit()
    (invoice,) = await invoices_of(session, order.id)
    return invoice


async def rendered(sessions: async_sessionmaker[AsyncSession], invoice: Invoice) -> Invoice:
    await store_pdf(sessions, invoice.id)
    return invoice


async def sync_row(session: AsyncSession, invoice_id: int) -> LexofficeSync | None:
    row: Any = await session.scalar(
        sa.select(LexofficeSync).where(LexofficeSync.invoice_id == invoice_id).execution_options(populate_existing=True)
    )
    return row
