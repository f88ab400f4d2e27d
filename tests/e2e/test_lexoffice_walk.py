"""Finance finds an invoice Lexware Office refused, reads why, and sends it again with "Retry sync"."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app.accounts.models import Role
from app.db.engine import session_factory
from app.db.session import engine_for
from app.invoicing.models import Invoice
from app.invoicing.storage import store_pdf
from app.lexoffice.models import LexofficeSync, SyncStatus
from tests.e2e.conftest import LiveServer, login

pytestmark = pytest.mark.e2e

REFUSAL = "HTTP 406: voucherItems[0].categoryId: missing_entity"


async def refused_invoice(server: LiveServer) -> tuple[int, str]:
    """A seeded invoice, rendered, whose booking Lexware Office refused."""
    async with engine_for(server.database_url) as engine:
        sessions = session_factory(engine)
        async with sessions() as session:
            invoice_id, number = (await session.execute(sa.select(Invoice.id, Invoice.number).limit(1))).one()
        await store_pdf(sessions, invoice_id)
        async with sessions() as session, session.begin():
            session.add(LexofficeSync(invoice_id=invoice_id, status=SyncStatus.FAILED, attempts=1, last_error=REFUSAL))
    return invoice_id, number


async def test_finance_reads_why_a_booking_failed_and_retries_it(page: Any, live_server: LiveServer, shot: Any) -> None:
    invoice_id, number = await refused_invoice(live_server)
    await login(page, live_server, Role.FINANCE, path="/admin/invoice/list?lexoffice=failed")

    row = page.locator("table tbody tr", has_text=number)
    await expect(row).to_contain_text("sync failed")
    await expect(row).to_contain_text("voucherItems[0].categoryId: missing_entity")
    await shot(page, "failed-invoices")

    await page.goto(live_server.url(f"/admin/invoice/action/retry-lexoffice-sync?pks={invoice_id}"))
    await expect(page.locator("body")).to_contain_text(number)
    await shot(page, "retry-confirmation")
    await page.locator("[data-testid=confirm-action]").click()
    await page.wait_for_url(re.compile(r"/admin/invoice/list"))

    await expect(page.locator("body")).to_contain_text(f"Queued for Lexware Office: {number}")
    await page.goto(live_server.url(f"/admin/invoice/details/{invoice_id}"))
    await expect(page.locator("body")).to_contain_text("sync pending")
    await shot(page, "retried-invoice")
