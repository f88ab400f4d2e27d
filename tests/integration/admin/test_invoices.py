"""The Invoices view: read-only for every role that reads it, the stored PDF as a download."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.db.engine import session_factory
from app.invoicing.models import Invoice
from app.invoicing.storage import store_pdf
from app.notifications.models import EmailOutbox
from app.uow import UnitOfWork
from tests import factories
from tests.integration.admin.helpers import login_as
from tests.integration.invoicing.helpers import invoices_of, pay


async def issued_invoice(session: AsyncSession, *, rendered: bool) -> Invoice:
    await factories.company_settings(session)
    order = (await factories.place_order(session)).order
    await pay(UnitOfWork(session), order)
    await session.commit()
    (invoice,) = await invoices_of(session, order.id)
    if rendered:
        bind: Any = session.bind
        await store_pdf(session_factory(bind), invoice.id)
    return invoice


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE, Role.STAFF])
async def test_each_reading_role_lists_invoices_and_downloads_the_stored_pdf(
    session: AsyncSession, web: AsyncTestClient[Any], role: Role
):
    invoice = await issued_invoice(session, rendered=True)
    await login_as(session, web, role)
    await session.commit()

    listing = await web.get("/admin/invoice/list")
    details = await web.get(f"/admin/invoice/details/{invoice.id}")
    download = await web.get(f"/admin/invoice/pdf/{invoice.id}")
    order_page = await web.get(f"/admin/order/details/{invoice.order_id}")

    assert listing.status_code == 200
    assert invoice.number in listing.text
    assert f"/admin/invoice/pdf/{invoice.id}" in listing.text
    assert details.status_code == 200
    assert invoice.number in order_page.text
    assert f"/admin/invoice/pdf/{invoice.id}" in order_page.text
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert hashlib.sha256(download.content).hexdigest() == (await invoices_of(session, invoice.order_id))[0].pdf_sha256
    xml = await web.get(f"/admin/invoice/xml/{invoice.id}")
    assert xml.status_code == 200
    assert xml.headers["content-disposition"] == f'attachment; filename="{invoice.number}.xml"'
    assert f"<ram:ID>{invoice.number}</ram:ID>".encode() in xml.content


async def test_invoices_cannot_be_created_edited_or_deleted_in_the_back_office(
    session: AsyncSession, web: AsyncTestClient[Any]
):
    invoice = await issued_invoice(session, rendered=False)
    await login_as(session, web, Role.ADMIN)
    await session.commit()

    for path in ("/admin/invoice/create", f"/admin/invoice/edit/{invoice.id}"):
        assert (await web.get(path)).status_code in {403, 404}, path
    assert (await web.delete(f"/admin/invoice/delete?pks={invoice.id}")).status_code in {403, 404, 405}
    assert (await invoices_of(session, invoice.order_id)) != []


async def test_an_invoice_still_rendering_has_no_download_yet(session: AsyncSession, web: AsyncTestClient[Any]):
    invoice = await issued_invoice(session, rendered=False)
    await login_as(session, web, Role.FINANCE)
    await session.commit()

    assert (await web.get(f"/admin/invoice/pdf/{invoice.id}")).status_code == 404
    assert (await web.get(f"/admin/invoice/xml/{invoice.id}")).status_code == 404
    assert "/admin/invoice/pdf/" not in (await web.get("/admin/invoice/list")).text


async def test_a_signed_out_visitor_gets_no_pdf(session: AsyncSession, web: AsyncTestClient[Any]):
    invoice = await issued_invoice(session, rendered=True)

    response = await web.get(f"/admin/invoice/pdf/{invoice.id}", follow_redirects=False)

    assert response.status_code in {302, 303, 401, 403}
    assert not response.content.startswith(b"%PDF")


@pytest.mark.parametrize("role", [Role.STAFF, Role.FINANCE])
async def test_support_and_finance_send_an_invoice_to_the_client_again(
    session: AsyncSession, web: AsyncTestClient[Any], role: Role
):
    invoice = await issued_invoice(session, rendered=True)
    staff = await login_as(session, web, role)
    await session.commit()

    answer = await web.post(
        f"/admin/invoice/action/resend-by-email?pks={invoice.id}",
        data={"csrf_token": staff.csrf},
        follow_redirects=False,
    )

    assert answer.status_code in {302, 303}
    mails = (
        await session.scalars(
            sa.select(EmailOutbox)
            .where(EmailOutbox.template == "invoice_copy")
            .execution_options(populate_existing=True)
        )
    ).all()
    assert [(mail.to_address, mail.context["invoice_id"], mail.order_id) for mail in mails] == [
        (invoice.buyer["email"], invoice.id, invoice.order_id)
    ]
