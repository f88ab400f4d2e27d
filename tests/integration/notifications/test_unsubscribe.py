"""One click in the renewal notice turns it off: the link shows a button, a POST (the button's or the mail client's,
RFC 8058) unsubscribes; a bad or forged link says so and changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditLog
from app.customers.models import Customer
from app.notifications.unsubscribe import UNSUBSCRIBE_PATH, unsubscribe_token
from tests import factories

ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


async def subscribed(session, customer_id: int) -> bool:
    value = await session.scalar(
        sa.select(Customer.renewal_notices).where(Customer.id == customer_id).execution_options(populate_existing=True)
    )
    await session.commit()
    return bool(value)


async def test_opening_the_link_shows_a_button_in_the_customers_language_and_changes_nothing(client, session):
    customer = await factories.customer(session, locale="de")
    await session.commit()

    page = await client.get(f"{UNSUBSCRIBE_PATH}/{unsubscribe_token(customer.id)}")

    assert page.status_code == 200
    assert 'data-testid="confirm-unsubscribe"' in page.text and "Abbestellen" in page.text
    assert await subscribed(session, customer.id)


async def test_a_one_click_post_unsubscribes_once_and_is_audited(client, session):
    customer = await factories.customer(session, locale="en")
    await session.commit()
    url = f"{UNSUBSCRIBE_PATH}/{unsubscribe_token(customer.id)}"

    for _ in range(2):
        done = await client.post(url, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        assert done.status_code == 200
        assert 'data-testid="unsubscribed"' in done.text

    assert not await subscribed(session, customer.id)
    audits = await session.scalars(sa.select(AuditLog).where(AuditLog.action == "unsubscribe-renewal-notices"))
    (audit,) = audits.all()
    assert audit.entity_id == str(customer.id)


async def test_a_forged_or_malformed_link_is_refused_and_changes_nothing(client, session):
    customer = await factories.customer(session)
    other = await factories.customer(session)
    await session.commit()
    forged = f"{customer.id}.{unsubscribe_token(other.id).partition('.')[2]}"

    for token in (forged, "garbage", f"{customer.id}"):
        for method in (client.get, client.post):
            answer = await method(f"{UNSUBSCRIBE_PATH}/{token}")
            assert answer.status_code == 400
            assert "This unsubscribe link is not valid" in answer.text or "Abmeldelink ist ungültig" in answer.text

    assert await subscribed(session, customer.id)
    assert await subscribed(session, other.id)
    audits = await session.scalars(sa.select(AuditLog).where(AuditLog.action == "unsubscribe-renewal-notices"))
    assert audits.all() == []
