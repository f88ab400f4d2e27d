"""Correcting an invoice from its page: a credit note by hand, or cancel and reissue; finance and admins only, the
amount as the staff member writes it, refusals on the form with the input kept, the new document's page to land
on."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.customers.models import Customer
from app.invoicing.models import Invoice, InvoiceKind
from tests.integration.admin.helpers import (
    Staff,
    action_error,
    create_staff,
    form_values,
    login,
    login_as,
    staff_audit_rows,
    toasts,
)
from tests.integration.admin.test_invoices import issued_invoice
from tests.integration.invoicing.helpers import invoices_of

# The invoices here (tests/integration/admin/test_invoices.py) are of 2.98 gross: net 2.50 at 19 %.
ACTION = "/admin/invoice/action/issue-credit-note"
BUTTON = 'data-testid="record-action-issue-credit-note"'
REISSUE = "/admin/invoice/action/cancel-and-reissue"
REISSUE_BUTTON = 'data-testid="record-action-cancel-and-reissue"'


async def issue(web: AsyncTestClient[Any], staff: Staff, invoice_id: int, amount: str, reason: str) -> Any:
    return await web.post(
        f"{ACTION}?pks={invoice_id}",
        data={"amount": amount, "reason": reason, "csrf_token": staff.csrf},
        follow_redirects=False,
    )


async def credit_notes(session: AsyncSession, invoice: Invoice) -> list[Invoice]:
    rows = await invoices_of(session, invoice.order_id)
    return sorted((row for row in rows if row.kind == InvoiceKind.CREDIT_NOTE), key=lambda row: row.id)


def plain(text: str) -> str:
    """Money as babel writes it (a no-break space before the euro sign) with plain spaces."""
    return text.replace("\xa0", " ")


def field_error(html: str, name: str) -> str | None:
    match = re.search(rf'name="{name}"[^>]*is-invalid.*?<div class="invalid-feedback">([^<]*)<', html, re.S)
    return unescape(match.group(1)).strip() if match else None


async def test_finance_credits_part_of_an_invoice_writing_the_amount_the_german_way(
    session: AsyncSession, web: AsyncTestClient[Any]
):
    invoice = await issued_invoice(session, rendered=True)
    user = await create_staff(session, Role.FINANCE, locale="de")
    finance = Staff(user, await login(web, user.email))

    page = await web.get(f"/admin/invoice/details/{invoice.id}")
    assert BUTTON in page.text
    form = await web.get(f"{ACTION}?pks={invoice.id}")
    assert form.status_code == 200
    assert f"{invoice.number}: brutto 2,98 €, noch gutzuschreiben 2,98 €" in plain(form.text)

    response = await issue(web, finance, invoice.id, "1,19", "Rabatt vereinbart")

    assert response.status_code == 303, action_error(response.text)
    (note,) = await credit_notes(session, invoice)
    assert (note.net, note.tax, note.gross) == (Decimal("-1.00"), Decimal("-0.19"), Decimal("-1.19"))
    assert note.lines[0]["link"] == "Rabatt vereinbart"
    assert response.headers["location"] == f"/admin/invoice/details/{note.id}"
    landing = await web.get(response.headers["location"])
    assert f"Gutschrift {note.number} über 1,19 € ausgestellt." in plain(" ".join(toasts(landing.text)))
    assert f"/admin/invoice/details/{invoice.id}" in landing.text  # the corrected invoice, linked
    assert BUTTON not in landing.text  # a credit note is not credited again
    [audit] = [row for row in await staff_audit_rows(session) if row.action == "issue-credit-note"]
    assert (audit.actor_id, audit.entity_id) == (user.id, str(note.id))
    listing = await web.get("/admin/invoice/list")
    assert "teilweise gutgeschrieben: 1,19 €" in plain(listing.text)


async def test_a_full_credit_note_shows_the_invoice_as_canceled_and_offers_no_further_one(
    session: AsyncSession, web: AsyncTestClient[Any]
):
    invoice = await issued_invoice(session, rendered=False)
    admin = await login_as(session, web, Role.ADMIN)

    response = await issue(web, admin, invoice.id, "2.98", "wrong buyer address")

    assert response.status_code == 303, action_error(response.text)
    listing = await web.get("/admin/invoice/list")
    assert "fully credited (canceled)" in listing.text
    page = await web.get(f"/admin/invoice/details/{invoice.id}")
    assert "fully credited (canceled)" in page.text
    assert BUTTON not in page.text
    again = await issue(web, admin, invoice.id, "0.01", "once more")
    assert again.status_code == 409
    assert action_error(again.text) == f"Invoice {invoice.number} is fully credited already."
    assert len(await credit_notes(session, invoice)) == 1


@pytest.mark.parametrize(
    ("amount", "reason", "field", "error"),
    [
        ("abc", "typo", "amount", "must be a number such as 1,234.50"),
        ("3.00", "too much", "amount", "at most 2.98 EUR is left to credit on invoice {number}"),
        ("0", "nothing", "amount", "must be more than zero"),
        ("5.00", "", "reason", "required"),
    ],
)
async def test_bad_input_comes_back_on_the_form_with_what_was_typed(
    session: AsyncSession, web: AsyncTestClient[Any], amount: str, reason: str, field: str, error: str
):
    invoice = await issued_invoice(session, rendered=False)
    finance = await login_as(session, web, Role.FINANCE)

    response = await issue(web, finance, invoice.id, amount, reason)

    assert response.status_code == 400
    assert field_error(response.text, field) == error.format(number=invoice.number)
    assert form_values(response.text) | {"csrf_token": ""} == {"amount": amount, "reason": reason, "csrf_token": ""}
    assert await credit_notes(session, invoice) == []
    assert [row for row in await staff_audit_rows(session) if row.action == "issue-credit-note"] == []


async def test_a_credit_note_is_not_credited_again(session: AsyncSession, web: AsyncTestClient[Any]):
    invoice = await issued_invoice(session, rendered=False)
    finance = await login_as(session, web, Role.FINANCE)
    assert (await issue(web, finance, invoice.id, "2.00", "discount")).status_code == 303
    (note,) = await credit_notes(session, invoice)

    response = await issue(web, finance, note.id, "1.00", "discount on the discount")

    assert response.status_code == 409
    assert action_error(response.text) == f"{note.number} is a credit note: correct the invoice it credits instead."
    assert len(await credit_notes(session, invoice)) == 1


async def test_support_staff_neither_see_nor_use_the_action(session: AsyncSession, web: AsyncTestClient[Any]):
    invoice = await issued_invoice(session, rendered=False)
    staff = await login_as(session, web, Role.STAFF)

    page = await web.get(f"/admin/invoice/details/{invoice.id}")
    form = await web.get(f"{ACTION}?pks={invoice.id}")
    response = await issue(web, staff, invoice.id, "1.00", "goodwill")

    assert page.status_code == 200
    assert BUTTON not in page.text
    assert (form.status_code, response.status_code) == (403, 403)
    assert await credit_notes(session, invoice) == []


async def test_finance_cancels_a_wrong_invoice_and_lands_on_its_replacement(
    session: AsyncSession, web: AsyncTestClient[Any]
):
    invoice = await issued_invoice(session, rendered=False)
    customer = await session.get_one(Customer, invoice.customer_id)
    customer.address_line1 = "Neue Straße 7"
    await session.commit()
    finance = await login_as(session, web, Role.FINANCE)
    page = await web.get(f"/admin/invoice/details/{invoice.id}")
    assert REISSUE_BUTTON in page.text
    form = await web.get(f"{REISSUE}?pks={invoice.id}")
    assert "the new invoice is made out to:" in form.text
    assert "Neue Straße 7" in form.text

    response = await web.post(
        f"{REISSUE}?pks={invoice.id}",
        data={"reason": "wrong address", "csrf_token": finance.csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303, action_error(response.text)
    (cancellation,) = await credit_notes(session, invoice)
    replacement = await session.scalar(sa.select(Invoice).where(Invoice.replaces_invoice_id == invoice.id))
    assert replacement is not None
    assert response.headers["location"] == f"/admin/invoice/details/{replacement.id}"
    landing = await web.get(response.headers["location"])
    message = f"Credit note {cancellation.number} cancels the invoice; new invoice {replacement.number} issued."
    assert message in toasts(landing.text)
    assert f"/admin/invoice/details/{invoice.id}" in landing.text  # replaces …
    assert BUTTON in landing.text and REISSUE_BUTTON in landing.text  # the replacement may be corrected in turn
    old_page = await web.get(f"/admin/invoice/details/{invoice.id}")
    assert "fully credited (canceled)" in old_page.text
    assert BUTTON not in old_page.text and REISSUE_BUTTON not in old_page.text


async def test_support_staff_cannot_cancel_and_reissue(session: AsyncSession, web: AsyncTestClient[Any]):
    invoice = await issued_invoice(session, rendered=False)
    staff = await login_as(session, web, Role.STAFF)

    page = await web.get(f"/admin/invoice/details/{invoice.id}")
    response = await web.post(
        f"{REISSUE}?pks={invoice.id}", data={"reason": "wrong", "csrf_token": staff.csrf}, follow_redirects=False
    )

    assert REISSUE_BUTTON not in page.text
    assert response.status_code == 403
    assert await credit_notes(session, invoice) == []
