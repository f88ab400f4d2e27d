"""CSRF: every state-changing back-office request needs the session's token, in the form or a header."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.models import Category
from app.orders.states import LineStatus
from tests import factories
from tests.integration.admin.helpers import (
    ADMIN,
    create_staff,
    log_out,
    login_as,
    order_events,
    order_with_line_at,
    reload_line,
    staff_audit_rows,
)

EXPIRED = "This form has expired"


def category_form(slug: str) -> dict[str, str]:
    return {"slug": slug, "platform": "tiktok", "name_de": "Neu", "name_en": "New", "position": "0", "is_active": "y"}


async def categories(session) -> list[str]:
    return list((await session.scalars(sa.select(Category.slug).execution_options(populate_existing=True))).all())


async def test_post_without_token_is_refused_and_nothing_is_created(web, session):
    await login_as(session, web, Role.ADMIN)

    response = await web.post("/admin/category/create", data=category_form("no-token"), follow_redirects=False)

    assert response.status_code == 403
    assert EXPIRED in response.text
    assert "no-token" not in await categories(session)
    assert await staff_audit_rows(session) == []


async def test_post_with_a_wrong_token_is_refused(web, session):
    await login_as(session, web, Role.ADMIN)

    response = await web.post(
        "/admin/category/create", data={**category_form("wrong-token"), "csrf_token": "forged"}, follow_redirects=False
    )

    assert response.status_code == 403
    assert "wrong-token" not in await categories(session)


async def test_a_token_from_an_earlier_session_is_refused(web, session):
    earlier = await login_as(session, web, Role.ADMIN)
    await log_out(web)
    await login_as(session, web, Role.ADMIN)

    response = await web.post(
        "/admin/category/create", data={**category_form("earlier"), "csrf_token": earlier.csrf}, follow_redirects=False
    )

    assert response.status_code == 403
    assert "earlier" not in await categories(session)


async def test_token_in_the_form_or_in_the_header_is_accepted(web, session):
    staff = await login_as(session, web, Role.ADMIN)

    in_form = await web.post(
        "/admin/category/create", data={**category_form("via-form"), "csrf_token": staff.csrf}, follow_redirects=False
    )
    in_header = await web.post(
        "/admin/category/create",
        data=category_form("via-header"),
        headers={"X-CSRF-Token": staff.csrf},
        follow_redirects=False,
    )

    assert (in_form.status_code, in_header.status_code) == (302, 302)
    assert {"via-form", "via-header"} <= set(await categories(session))


async def test_login_post_without_token_is_refused(web, session):
    user = await create_staff(session, Role.ADMIN)

    response = await web.post(
        "/admin/login", data={"username": user.email, "password": factories.STAFF_PASSWORD}, follow_redirects=False
    )

    assert response.status_code == 403
    after = await web.get("/admin/", follow_redirects=False)
    assert after.status_code == 302
    assert after.headers["location"] == f"{ADMIN}/login"


async def test_action_post_without_token_is_refused_and_changes_nothing(web, session):
    order, line = await order_with_line_at(session)
    events_before = len(await order_events(session, order.id))
    await login_as(session, web, Role.STAFF)

    response = await web.post(
        f"/admin/order-line/action/hold-line?pks={line.id}", data={"reason": "wait"}, follow_redirects=False
    )

    assert response.status_code == 403
    assert (await reload_line(session, line.id)).fulfillment_status == LineStatus.QUEUED
    assert len(await order_events(session, order.id)) == events_before
    assert await staff_audit_rows(session) == []
