"""The client edits their profile in the portal: saved through the customer command (audited), the VAT ID checked
for the country as at checkout, refused input shown in the form as typed, the email not changeable there."""

from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditLog
from app.customers.models import Customer
from tests import factories
from tests.integration.portal.conftest import csrf_of, log_in

PROFILE = {
    "name": "Lena Schmidt",
    "company": "Studio Kern GmbH",
    "address_line1": "Gartenstraße 5",
    "address_line2": "",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE 136 695 976",
    "locale": "en",
}


async def open_profile(client, session, **values: str) -> tuple[Customer, str]:
    buyer = await factories.customer(session, locale="en", **values)
    await session.commit()
    await log_in(client, session, buyer.email)
    page = await client.get("/portal/profile")
    assert page.status_code == 200
    return buyer, csrf_of(page.text)


async def test_a_valid_profile_is_saved_with_the_vat_id_in_compact_form_and_audited(client, session):
    buyer, csrf = await open_profile(client, session)

    saved = await client.post("/portal/profile", data={**PROFILE, "csrf_token": csrf}, follow_redirects=False)

    assert saved.status_code == 303 and "lang=en" in saved.headers["set-cookie"]  # the site follows the choice
    stored = await session.scalar(
        sa.select(Customer).where(Customer.id == buyer.id).execution_options(populate_existing=True)
    )
    assert stored is not None
    assert (stored.company, stored.city, stored.vat_id) == ("Studio Kern GmbH", "Berlin", "DE136695976")
    assert stored.vat_id_entered_by == f"customer:{buyer.id}"  # people are named by id in the trail
    audit = await session.scalar(
        sa.select(AuditLog).where(AuditLog.entity_type == "customer", AuditLog.action == "update")
    )
    assert audit is not None and audit.actor_kind == "customer" and "vat_id" in (audit.diff or {})
    page = await client.get("/portal/profile?saved=1")
    assert 'data-testid="profile-saved"' in page.text and 'value="Studio Kern GmbH"' in page.text


async def test_a_vat_id_of_another_country_is_refused_and_the_form_keeps_what_was_typed(client, session):
    buyer, csrf = await open_profile(client, session, city="Hamburg")

    refused = await client.post(
        "/portal/profile", data={**PROFILE, "country": "AT", "vat_id": "DE136695976", "csrf_token": csrf}
    )

    assert refused.status_code == 422
    assert "must start with AT for a customer in AT" in refused.text and 'id="vat_id-error"' in refused.text
    assert 'value="Studio Kern GmbH"' in refused.text and 'value="DE136695976"' in refused.text
    stored = await session.scalar(
        sa.select(Customer).where(Customer.id == buyer.id).execution_options(populate_existing=True)
    )
    assert stored is not None and stored.city == "Hamburg" and stored.vat_id is None


async def test_bad_fields_are_each_marked_and_nothing_is_saved(client, session):
    _buyer, csrf = await open_profile(client, session)

    refused = await client.post(
        "/portal/profile",
        data={**PROFILE, "vat_id": "DE123", "locale": "fr", "postal_code": "1" * 30, "csrf_token": csrf},
    )

    assert refused.status_code == 422
    for name in ("vat_id", "locale", "postal_code"):
        assert f'id="{name}-error"' in refused.text
    updates = sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "update")
    assert await session.scalar(updates) == 0


async def test_the_email_cannot_be_changed_from_the_portal(client, session):
    buyer, csrf = await open_profile(client, session)

    await client.post("/portal/profile", data={**PROFILE, "email": "thief@example.com", "csrf_token": csrf})

    stored = await session.scalar(
        sa.select(Customer.email).where(Customer.id == buyer.id).execution_options(populate_existing=True)
    )
    assert stored == buyer.email


async def test_a_profile_form_without_the_session_token_changes_nothing(client, session):
    buyer, _csrf = await open_profile(client, session)

    refused = await client.post("/portal/profile", data={**PROFILE, "csrf_token": "forged"})

    assert refused.status_code == 403
    stored = await session.scalar(
        sa.select(Customer.company).where(Customer.id == buyer.id).execution_options(populate_existing=True)
    )
    assert stored is None
