"""The tracking page lists the order's invoices and credit notes and serves their stored PDFs, only to this
order's link: another order's number answers the same 404 as an unknown token."""

from __future__ import annotations

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.engine import session_factory
from app.invoicing.models import Invoice, InvoiceKind
from app.invoicing.storage import store_pdf
from app.orders.models import Order
from app.uow import UnitOfWork
from tests import factories
from tests.integration.invoicing.helpers import invoices_of, pay
from tests.integration.invoicing.test_credit_notes import refunded

JSON = {"Accept": "application/json"}


async def invoiced_order(session: AsyncSession) -> tuple[str, Order]:
    """A paid order (gross 5.95) with its invoice issued by the payment; its PDF not rendered yet."""
    await factories.company_settings(session)
    service = await factories.service(session, price="2.5000")
    placed = await factories.place_order(session, items=[(service, 2000, "https://www.instagram.com/p/doc/")])
    assert placed.tracking_token is not None
    await pay(UnitOfWork(session), placed.order)
    await session.commit()
    return placed.tracking_token, placed.order


async def render_all(engine: AsyncEngine, session: AsyncSession, order: Order) -> list[Invoice]:
    documents = sorted(await invoices_of(session, order.id), key=lambda row: row.id)
    for document in documents:
        await store_pdf(session_factory(engine), document.id)
    return documents


async def test_an_invoice_being_rendered_is_listed_as_being_prepared_without_a_link(
    client: AsyncTestClient[Litestar], session: AsyncSession
):
    token, order = await invoiced_order(session)
    (invoice,) = await invoices_of(session, order.id)

    page = (await client.get(f"/track/{token}?lang=en")).text
    body = (await client.get(f"/track/{token}?lang=en", headers=JSON)).json()

    assert f"Invoice {invoice.number}" in page and "being prepared" in page and "€5.95" in page
    assert "/documents/" not in page
    assert body["documents"] == [
        {
            "number": invoice.number,
            "kind": "invoice",
            "issued_at": body["documents"][0]["issued_at"],
            "gross": "5.95",
            "currency": "EUR",
            "url": None,
        }
    ]


async def test_the_invoice_and_credit_note_pdfs_download_as_private_attachments(
    client: AsyncTestClient[Litestar], session: AsyncSession, engine: AsyncEngine
):
    token, order = await invoiced_order(session)
    await refunded(session, order, "1.19", key="doc-refund", line_id=order.lines[0].id)
    await session.commit()
    invoice, credit = await render_all(engine, session, order)
    assert credit.kind == InvoiceKind.CREDIT_NOTE

    page = (await client.get(f"/track/{token}?lang=de")).text
    body = (await client.get(f"/track/{token}", headers=JSON)).json()
    download = await client.get(f"/track/{token}/documents/{credit.number}.pdf")

    for document in (invoice, credit):
        assert f'href="/track/{token}/documents/{document.number}.pdf"' in page
    assert f"Gutschrift {credit.number}" in page and "PDF herunterladen" in page and "wird erstellt" not in page
    assert [(d["number"], d["kind"], d["gross"], d["url"]) for d in body["documents"]] == [
        (invoice.number, "invoice", "5.95", f"/track/{token}/documents/{invoice.number}.pdf"),
        (credit.number, "credit_note", "-1.19", f"/track/{token}/documents/{credit.number}.pdf"),
    ]
    stored = await session.scalar(sa.select(Invoice.pdf).where(Invoice.id == credit.id))
    assert download.status_code == 200 and download.content == stored
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == f'attachment; filename="{credit.number}.pdf"'
    assert download.headers["cache-control"] == "no-store"
    assert download.headers["x-robots-tag"].startswith("noindex")


async def test_another_orders_document_gets_the_same_404_as_an_unknown_token(
    client: AsyncTestClient[Litestar], session: AsyncSession, engine: AsyncEngine
):
    token, order = await invoiced_order(session)
    _other_token, other = await invoiced_order(session)
    await render_all(engine, session, order)
    (foreign,) = await render_all(engine, session, other)

    foreign_number = await client.get(f"/track/{token}/documents/{foreign.number}.pdf?lang=en")
    unknown_token = await client.get(f"/track/{'x' * 43}/documents/{foreign.number}.pdf?lang=en")
    not_a_pdf = await client.get(f"/track/{token}/documents/{foreign.number}?lang=en")

    for response in (foreign_number, unknown_token, not_a_pdf):
        assert response.status_code == 404
        assert "This order link is not valid" in response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-type"].startswith("text/html")
    assert foreign_number.text.replace(token, "x" * 43) == unknown_token.text  # the page links its own address
