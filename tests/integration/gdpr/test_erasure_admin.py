"""Admins decide on erasure requests from the customer's page; other roles cannot."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Role
from app.actors import Actor
from app.customers.models import Customer
from app.gdpr.erasure import request_erasure
from app.gdpr.models import ErasureRequest, ErasureStatus
from app.uow import UnitOfWork
from tests.integration.admin.helpers import action_error, http_client, login_as
from tests.integration.gdpr.helpers import client_with_an_order


async def requested(session, name: str, *, finished: bool = True) -> int:
    client = await client_with_an_order(session, name, finished=finished)
    customer_id = client.customer.id
    await request_erasure(UnitOfWork(session), customer_id=customer_id, actor=Actor.customer(customer_id))
    await session.commit()
    return customer_id


async def act(web, staff, slug: str, customer_id: int, **fields: str):
    return await web.post(
        f"/admin/customer/action/{slug}?pks={customer_id}",
        data={**fields, "csrf_token": staff.csrf},
        follow_redirects=False,
    )


async def test_an_admin_confirms_the_erasure_and_the_request_list_shows_it(app, session):
    customer_id = await requested(session, "Anna")
    async with http_client(app) as web:
        admin = await login_as(session, web, Role.ADMIN)
        page = await web.get(f"/admin/customer/action/confirm-erasure?pks={customer_id}")
        assert page.status_code == 200

        done = await act(web, admin, "confirm-erasure", customer_id)

        assert done.status_code == 303, action_error(done.text)
        listed = await web.get("/admin/erasure-request/list")
        assert listed.status_code == 200 and 'data-state="erased"' in listed.text
    email = await session.scalar(sa.select(Customer.email).where(Customer.id == customer_id))
    assert email == f"erased-{customer_id}@invalid"


async def test_an_admin_declines_with_a_reason_and_an_open_order_refuses_the_confirmation(app, session):
    declined_id = await requested(session, "Anna")
    open_id = await requested(session, "Bernd", finished=False)
    async with http_client(app) as web:
        admin = await login_as(session, web, Role.ADMIN)

        refused = await act(web, admin, "confirm-erasure", open_id)
        declined = await act(web, admin, "decline-erasure", declined_id, reason="Chargeback still open")

    assert refused.status_code == 409 and "still open" in (action_error(refused.text) or "")
    assert declined.status_code == 303
    rows = dict((await session.execute(sa.select(ErasureRequest.customer_id, ErasureRequest.status))).tuples().all())
    assert rows == {declined_id: ErasureStatus.DECLINED, open_id: ErasureStatus.REQUESTED}


async def test_staff_may_neither_confirm_nor_see_erasure_requests(app, session):
    customer_id = await requested(session, "Anna")
    async with http_client(app) as web:
        staff = await login_as(session, web, Role.STAFF)

        confirm = await act(web, staff, "confirm-erasure", customer_id)
        listed = await web.get("/admin/erasure-request/list")

    assert confirm.status_code == 403 and listed.status_code == 403
    assert await session.scalar(sa.select(Customer.erased_at).where(Customer.id == customer_id)) is None
