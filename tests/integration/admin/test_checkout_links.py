"""Checkout links in the back office: staff create one (the URL shown once), refusals stay on the form and create
nothing, the details page shows status, uses and orders, and the link can be withdrawn."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.i18n import BERLIN
from app.notifications.models import EmailOutbox, EmailStatus
from app.payments.links import link_token_hash
from app.payments.models import CheckoutLink
from tests import factories
from tests.integration.admin.helpers import audit_rows, form_values, login_as

URL = re.compile(r'value="([^"]+)" data-testid="checkout-link-url"')


@pytest.fixture
async def shop_data(session) -> dict[str, Any]:
    service = await factories.service(session, price="2.5000")
    customer = await factories.customer(session, email="lena@example.com")
    await session.commit()
    return {"service": service, "customer": customer}


def link_form(page: str, shop_data: dict[str, Any], csrf: str, **changes: str) -> dict[str, Any]:
    form = form_values(page)
    form.update(
        {
            "csrf_token": csrf,
            "customer": str(shop_data["customer"].id),
            "lines-0-service": str(shop_data["service"].id),
            "lines-0-link": "@lena.schmidt",
            "lines-0-quantity": "1000",
            "valid_until": (datetime.now(UTC) + timedelta(days=7)).date().isoformat(),
            "max_uses": "1",
            "note": "",
            "override_reason": "",
        }
    )
    form.update(changes)
    return form


async def links(session) -> list[CheckoutLink]:
    stmt = sa.select(CheckoutLink).execution_options(populate_existing=True).order_by(CheckoutLink.id)
    return list((await session.scalars(stmt)).unique().all())


async def test_staff_create_a_link_and_see_its_address_once(web, session, shop_data):
    staff = await login_as(session, web, Role.STAFF)
    page = await web.get("/admin/checkout-link/create")
    assert page.status_code == 200 and 'data-testid="checkout-link-lines"' in page.text

    created = await web.post(
        "/admin/checkout-link/create",
        data=link_form(page.text, shop_data, staff.csrf, **{"lines-0-unit_price": "1.90", "override_reason": "promo"}),
        follow_redirects=False,
    )

    assert created.status_code == 200, created.text
    match = URL.search(created.text)
    assert match
    url = match.group(1)
    token = url.rsplit("/pay/", 1)[1]
    (link,) = await links(session)
    assert link.token_hash == link_token_hash(token)
    assert link.created_by_id == staff.user.id
    assert link.items[0]["unit_price"] == "1.9000" or link.items[0]["unit_price"] == "1.90"
    details = await web.get(f"/admin/checkout-link/details/{link.id}")
    assert details.status_code == 200
    assert token not in details.text  # never shown again
    assert 'data-state="active"' in details.text and "0 / 1" in details.text
    actions = sorted(row.action for row in await audit_rows(session, entity_type="checkout_link"))
    assert actions == ["create", "override-price"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lines-0-service": "", "lines-0-link": "", "lines-0-quantity": ""}, "lines"),
        ({"lines-0-quantity": "5"}, "lines[0].quantity"),
        ({"lines-0-unit_price": "1.90"}, "override_reason"),
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"valid_until": "12/31/2030"}, "valid_until"),
        ({"customer": ""}, "customer"),
    ],
    ids=[
        "no-lines",
        "quantity-out-of-range",
        "override-without-reason",
        "expiry-in-the-past",
        "expiry-not-a-date",
        "no-customer",
    ],
)
async def test_bad_input_stays_on_the_form_and_creates_nothing(web, session, shop_data, changes, field):
    staff = await login_as(session, web, Role.STAFF)
    page = await web.get("/admin/checkout-link/create")

    form = link_form(page.text, shop_data, staff.csrf, **changes)
    sent = await web.post("/admin/checkout-link/create", data=form, follow_redirects=False)

    assert sent.status_code == 400
    assert f'data-field-error="{field}"' in sent.text or (field == "lines" and 'data-testid="lines-error"' in sent.text)
    assert await links(session) == []


async def test_a_german_page_asks_for_the_validity_as_a_german_date(web, session, shop_data):
    staff = await login_as(session, web, Role.STAFF)
    page = await web.get("/admin/checkout-link/create?lang=de")
    in_a_week = (datetime.now(UTC) + timedelta(days=7)).date()

    sent = await web.post(
        "/admin/checkout-link/create",
        data=link_form(page.text, shop_data, staff.csrf, valid_until=f"{in_a_week:%d.%m.%Y}"),
        follow_redirects=False,
    )

    assert 'type="text" inputmode="numeric" autocomplete="off" id="valid_until" name="valid_until"' in page.text
    assert sent.status_code == 200, sent.text
    (link,) = await links(session)
    assert link.expires_at.astimezone(BERLIN).date() == in_a_week


async def test_finance_may_read_links_but_not_create_them(web, session, shop_data):
    await login_as(session, web, Role.FINANCE)
    assert (await web.get("/admin/checkout-link/list")).status_code == 200
    assert (await web.get("/admin/checkout-link/create")).status_code == 403


async def test_staff_deactivate_a_link_and_its_details_say_so(web, session, shop_data):
    staff = await login_as(session, web, Role.STAFF)
    page = await web.get("/admin/checkout-link/create")
    await web.post("/admin/checkout-link/create", data=link_form(page.text, shop_data, staff.csrf))
    (link,) = await links(session)

    done = await web.post(
        f"/admin/checkout-link/action/deactivate?pks={link.id}", data={"csrf_token": staff.csrf}, follow_redirects=False
    )

    assert done.status_code == 303
    (link,) = await links(session)
    assert not link.is_active
    details = await web.get(f"/admin/checkout-link/details/{link.id}")
    assert 'data-state="deactivated"' in details.text
    listing = await web.get("/admin/checkout-link/list")
    assert listing.status_code == 200 and 'data-state="deactivated"' in listing.text


async def test_staff_email_a_new_link_to_the_customer_in_their_language(web, session, shop_data):
    staff = await login_as(session, web, Role.STAFF)
    page = await web.get("/admin/checkout-link/create")
    form = link_form(page.text, shop_data, staff.csrf)
    form["email_customer"] = "y"

    created = await web.post("/admin/checkout-link/create", data=form)

    url = URL.search(created.text)
    assert url is not None
    (mail,) = (await session.scalars(sa.select(EmailOutbox))).all()
    assert (mail.template, mail.status, mail.to_address) == ("checkout_link", EmailStatus.QUEUED, "lena@example.com")
    assert mail.context["pay_url"] == f"{url.group(1)}?lang={mail.locale}"
    (created_row,) = await audit_rows(session, action="create", entity_type="checkout_link")
    assert created_row.diff["emailed_to"] == "lena@example.com"


async def test_a_new_link_is_not_emailed_unless_staff_ask(web, session, shop_data):
    staff = await login_as(session, web, Role.STAFF)
    page = await web.get("/admin/checkout-link/create")

    await web.post("/admin/checkout-link/create", data=link_form(page.text, shop_data, staff.csrf))

    assert len(await links(session)) == 1
    assert (await session.scalars(sa.select(EmailOutbox))).all() == []
