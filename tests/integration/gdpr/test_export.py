"""The client's data export: what it holds (their data, nothing of others'), who may download it, for how long."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.gdpr.exports import ExportPending, build_export, expire_exports, export_path, request_export
from app.gdpr.models import DataExport, ExportStatus
from app.notifications.models import EmailOutbox
from app.uow import UnitOfWork
from tests import factories
from tests.integration.gdpr.helpers import client_with_an_order
from tests.integration.portal.conftest import csrf_of, log_in

WORKER = Actor.worker("test")


async def ready_export(session, customer_id: int) -> DataExport:
    export = await request_export(UnitOfWork(session), customer_id=customer_id, actor=Actor.customer(customer_id))
    built = await build_export(UnitOfWork(session), export_id=export.id, actor=WORKER)
    assert built is not None and built.status == ExportStatus.READY
    await session.commit()
    return built


def zip_entries(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_the_export_holds_the_clients_data_and_nothing_of_another_clients(session):
    await factories.company_settings(session)
    anna = await client_with_an_order(session, "Anna")
    bernd = await client_with_an_order(session, "Bernd")

    export = await ready_export(session, anna.customer.id)

    path = export_path(export)
    assert path is not None
    entries = zip_entries(path.read_bytes())
    data = json.loads(entries["data.json"])
    assert data["customer"]["email"] == "anna@example.com"
    assert [order["number"] for order in data["orders"]] == [anna.order.number]
    assert data["orders"][0]["lines"][0]["link"] == anna.order.lines[0].link
    assert {event["kind"] for event in data["orders"][0]["events"]} >= {"created", "status"}
    assert {payment["order"] for payment in data["payments"]} <= {anna.order.number}
    (document,) = data["documents"]
    assert entries[document["file"]].startswith(b"%PDF")
    everything = b"".join(entries.values()).decode("latin-1")
    for foreign in ("bernd@example.com", "Bernd Beispiel", bernd.order.number, bernd.order.lines[0].link):
        assert foreign not in everything


async def test_the_ready_export_is_mailed_with_its_portal_link(session):
    anna = await client_with_an_order(session, "Anna")

    export = await ready_export(session, anna.customer.id)

    mail = await session.scalar(sa.select(EmailOutbox).where(EmailOutbox.template == "gdpr_export_ready"))
    assert mail is not None and mail.to_address == "anna@example.com"
    assert mail.context["download_url"].endswith(f"/portal/exports/{export.id}?lang=de")


async def test_a_second_export_is_refused_while_one_is_being_prepared(session):
    anna = await client_with_an_order(session, "Anna")
    actor = Actor.customer(anna.customer.id)
    await request_export(UnitOfWork(session), customer_id=anna.customer.id, actor=actor)

    with pytest.raises(ExportPending):
        await request_export(UnitOfWork(session), customer_id=anna.customer.id, actor=actor)

    assert await session.scalar(sa.select(sa.func.count()).select_from(DataExport)) == 1


async def test_the_owner_downloads_the_export_and_another_client_gets_a_404(client, session):
    anna = await client_with_an_order(session, "Anna")
    bernd = await client_with_an_order(session, "Bernd")
    export = await ready_export(session, anna.customer.id)

    await log_in(client, session, bernd.customer.email)
    assert (await client.get(f"/portal/exports/{export.id}")).status_code == 404

    client.cookies.clear()
    await log_in(client, session, anna.customer.email)
    download = await client.get(f"/portal/exports/{export.id}")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert json.loads(zip_entries(download.content)["data.json"])["customer"]["id"] == anna.customer.id


async def test_an_expired_export_is_deleted_by_the_sweep_and_no_longer_downloads(client, session):
    anna = await client_with_an_order(session, "Anna")
    export = await ready_export(session, anna.customer.id)
    path = export_path(export)
    assert path is not None and path.is_file()
    assert export.expires_at is not None

    assert await expire_exports(UnitOfWork(session), actor=WORKER, now=export.expires_at - timedelta(minutes=1)) == 0
    assert await expire_exports(UnitOfWork(session), actor=WORKER, now=export.expires_at) == 1
    await session.commit()

    assert not path.exists()
    await session.refresh(export)
    assert export.status == ExportStatus.EXPIRED
    await log_in(client, session, anna.customer.email)
    assert (await client.get(f"/portal/exports/{export.id}")).status_code == 404


async def test_download_my_data_on_the_profile_page_records_one_export_and_defers_its_job(client, session):
    anna = await client_with_an_order(session, "Anna")
    await session.commit()
    await log_in(client, session, anna.customer.email)
    csrf = csrf_of((await client.get("/portal/profile")).text)

    first = await client.post("/portal/privacy/export", data={"csrf_token": csrf}, follow_redirects=False)
    second = await client.post("/portal/privacy/export", data={"csrf_token": csrf}, follow_redirects=False)
    refused = await client.post("/portal/privacy/export", data={"csrf_token": "wrong"}, follow_redirects=False)

    assert first.headers["location"].endswith("done=export-requested")
    assert second.headers["location"].endswith("done=export-pending")
    assert refused.status_code == 403
    assert await session.scalar(sa.select(sa.func.count()).select_from(DataExport)) == 1
    jobs = await session.scalar(
        sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'gdpr.build_export'")
    )
    assert jobs == 1
    page = await client.get("/portal/privacy?done=export-pending")
    assert 'data-testid="export-pending"' in page.text


async def test_an_export_whose_job_never_finished_is_given_up_after_a_day_and_may_be_asked_for_again(session):
    anna = await client_with_an_order(session, "Anna")
    actor = Actor.customer(anna.customer.id)
    stuck = await request_export(UnitOfWork(session), customer_id=anna.customer.id, actor=actor)
    await session.flush()
    asked_at = stuck.created_at

    assert await expire_exports(UnitOfWork(session), actor=WORKER, now=asked_at + timedelta(hours=23)) == 0
    assert await expire_exports(UnitOfWork(session), actor=WORKER, now=asked_at + timedelta(days=1)) == 1

    again = await request_export(UnitOfWork(session), customer_id=anna.customer.id, actor=actor)
    assert (stuck.status, again.status) == (ExportStatus.EXPIRED, ExportStatus.PENDING)
