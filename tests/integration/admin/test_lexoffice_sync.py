"""The Invoices view's Lexware Office column, filter and "Retry sync" action."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.config import Settings, get_settings, use_settings
from app.db.engine import session_factory
from app.invoicing.models import Invoice
from app.lexoffice.commands import SYNC_TASK
from app.lexoffice.models import LexofficeSync, SyncStatus
from tests.conftest import TEST_SECRET
from tests.integration.admin.helpers import action_error, login_as, staff_audit_rows
from tests.integration.lexoffice.helpers import paid_invoice, rendered, sync_row

REFUSAL = "HTTP 406: voucherItems[0].categoryId: missing_entity"


@pytest.fixture
def settings(clean_db: str, tmp_path: Path) -> Iterator[Settings]:
    previous = get_settings()
    yield Settings(
        env="test",
        database_url=clean_db,
        secret_key=TEST_SECRET,
        data_dir=tmp_path / "data",
        lexoffice_api_key="admin-test-key",
        lexoffice_base_url="http://127.0.0.1:9/v1",  # never called: the action only queues the job
    )
    use_settings(previous)


async def invoice_with_sync(session: AsyncSession, status: SyncStatus, error: str | None = None) -> Invoice:
    bind: Any = session.bind
    invoice = await rendered(session_factory(bind), await paid_invoice(session))
    voucher = None if status in (SyncStatus.PENDING, SyncStatus.FAILED) else "voucher-1"
    session.add(
        LexofficeSync(
            invoice_id=invoice.id,
            status=status,
            voucher_id=voucher,
            last_error=error,
            file_uploaded=voucher is not None,
        )
    )
    await session.commit()
    return invoice


async def act(web: AsyncTestClient[Any], staff: Any, invoice_id: int) -> Any:
    return await web.post(
        f"/admin/invoice/action/retry-lexoffice-sync?pks={invoice_id}",
        data={"csrf_token": staff.csrf},
        follow_redirects=False,
    )


async def test_finance_sees_a_failed_sync_with_its_reason_and_filters_by_it(
    session: AsyncSession, web: AsyncTestClient[Any]
):
    invoice = await invoice_with_sync(session, SyncStatus.FAILED, REFUSAL)
    await login_as(session, web, Role.FINANCE)
    await session.commit()

    listing = await web.get("/admin/invoice/list")
    failed = await web.get("/admin/invoice/list?lexoffice=failed")
    synced = await web.get("/admin/invoice/list?lexoffice=synced")
    details = await web.get(f"/admin/invoice/details/{invoice.id}")

    assert 'data-state="failed"' in listing.text
    assert "voucherItems[0].categoryId: missing_entity" in listing.text
    assert invoice.number in failed.text
    assert invoice.number not in synced.text
    assert REFUSAL in details.text


async def test_finance_retries_a_failed_sync_through_the_command_which_queues_it_and_is_audited(
    session: AsyncSession, web: AsyncTestClient[Any]
):
    invoice = await invoice_with_sync(session, SyncStatus.FAILED, REFUSAL)
    staff = await login_as(session, web, Role.FINANCE)
    await session.commit()

    response = await act(web, staff, invoice.id)

    assert response.status_code == 303, action_error(response.text)
    sync = await sync_row(session, invoice.id)
    assert sync is not None
    assert sync.status == SyncStatus.PENDING
    jobs = await session.scalars(
        sa.text("SELECT args FROM procrastinate_jobs WHERE task_name = :task"), {"task": SYNC_TASK}
    )
    assert jobs.all() == [{"invoice_id": invoice.id}]
    audit = [row for row in await staff_audit_rows(session) if row.action == "retry-lexoffice-sync"]
    assert [(row.entity_type, row.entity_id) for row in audit] == [("invoice", str(invoice.id))]


async def test_a_synced_invoice_is_not_booked_again_and_staff_may_not_retry(
    session: AsyncSession, web: AsyncTestClient[Any]
):
    invoice = await invoice_with_sync(session, SyncStatus.SYNCED)
    finance = await login_as(session, web, Role.FINANCE)
    await session.commit()

    refused = await act(web, finance, invoice.id)
    staff = await login_as(session, web, Role.STAFF)
    await session.commit()
    forbidden = await act(web, staff, invoice.id)

    assert refused.status_code == 409
    assert "already booked in Lexware Office" in (action_error(refused.text) or "")
    assert forbidden.status_code == 403
    sync = await sync_row(session, invoice.id)
    assert sync is not None
    assert sync.status == SyncStatus.SYNCED
