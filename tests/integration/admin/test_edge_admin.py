"""The back office behind a reverse proxy and against bad bytes, as a staff member (or an attacker) meets it.

- The login throttle and the audit trail see the real client address when a trusted proxy reports it, and
  the peer's own address when anyone else claims one.
- Behind a TLS proxy, form actions and redirects are https.
- A NUL character in any form body (login, edit forms, action forms) is a clear 400 and changes nothing.
- Pages that show a secret (a reset password) are never cached.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from app.accounts.models import LoginAttempts, Role
from app.accounts.services import LoginThrottle
from app.asgi import create_app
from app.catalog.models import Category
from app.config import Settings
from app.orders.models import OrderEvent
from tests import factories
from tests.integration.admin.helpers import (
    action_error,
    audit_rows,
    create_staff,
    form_values,
    http_client,
    login_as,
    post_login,
)
from tests.integration.edge_checks import assert_security_headers

PROXY = "10.0.0.1"
WRONG = "not the password"
LOCKED = "Too many failed logins"
FORM_ACTION = re.compile(r'<form[^>]*\saction="([^"]*)"')


@pytest.fixture
async def proxied(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    """The back office behind a proxy at 10.0.0.0/8; requests come from the proxy unless a test says otherwise."""
    app = create_app(dataclasses.replace(settings, trusted_proxies=("10.0.0.0/8",)))
    async with http_client(app) as client:
        client.headers["X-Test-Peer"] = PROXY
        yield client


def from_client(client: AsyncTestClient[Any], address: str, *, peer: str = PROXY) -> None:
    client.headers["X-Test-Peer"] = peer
    client.headers["X-Forwarded-For"] = address


async def create_category(client: AsyncTestClient[Any], csrf: str, slug: str) -> Any:
    page = await client.get("/admin/category/create")
    form = form_values(page.text)
    form.update(slug=slug, name_de="Kategorie", name_en="Category", position="1", csrf_token=csrf)
    return await client.post("/admin/category/create", data=form, follow_redirects=False)


async def category_slugs(session: Any) -> set[str]:
    return set((await session.scalars(sa.select(Category.slug).execution_options(populate_existing=True))).all())


# -- client addresses ------------------------------------------------------------------------------------------


async def test_behind_a_trusted_proxy_the_throttle_counts_per_real_client(proxied, session):
    user = await create_staff(session, Role.ADMIN)
    from_client(proxied, "203.0.113.5")
    for _ in range(LoginThrottle.MAX_FAILURES):
        await post_login(proxied, user.email, WRONG)
    assert LOCKED in (await post_login(proxied, user.email)).text

    from_client(proxied, "203.0.113.9")  # another person behind the same proxy
    response = await post_login(proxied, user.email)

    assert response.status_code == 302
    ips = set((await session.scalars(sa.select(LoginAttempts.ip))).all())
    assert ips == {"203.0.113.5"}


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_throttle(proxied, session):
    user = await create_staff(session, Role.ADMIN)
    for attempt in range(LoginThrottle.MAX_FAILURES):
        from_client(proxied, f"192.0.2.{attempt + 1}", peer="198.51.100.7")
        await post_login(proxied, user.email, WRONG)

    from_client(proxied, "192.0.2.200", peer="198.51.100.7")
    assert LOCKED in (await post_login(proxied, user.email)).text
    ips = set((await session.scalars(sa.select(LoginAttempts.ip))).all())
    assert ips == {"198.51.100.7"}


async def test_the_audit_trail_records_the_client_behind_a_trusted_proxy(proxied, session):
    staff = await login_as(session, proxied, Role.STAFF)
    from_client(proxied, "203.0.113.5, 10.0.0.7")

    response = await create_category(proxied, staff.csrf, "via-proxy")

    assert response.status_code == 302
    (entry,) = await audit_rows(session, entity_type="category")
    assert entry.ip == "203.0.113.5"


async def test_the_audit_trail_ignores_a_forwarded_for_from_an_untrusted_peer(proxied, session):
    staff = await login_as(session, proxied, Role.STAFF)
    from_client(proxied, "203.0.113.5", peer="198.51.100.7")

    response = await create_category(proxied, staff.csrf, "spoofed")

    assert response.status_code == 302
    (entry,) = await audit_rows(session, entity_type="category")
    assert entry.ip == "198.51.100.7"


# -- https behind a TLS proxy ----------------------------------------------------------------------------------


def assert_https_forms(html: str, page_form: str) -> None:
    """The page's own form posts to ``page_form``, and every form on it (the user menu's logout too) to https."""
    actions = FORM_ACTION.findall(html)
    assert page_form in actions
    assert all(action.startswith("https://testserver.local/admin/") for action in actions), actions


async def test_behind_a_tls_proxy_form_actions_and_redirects_are_https(proxied, session):
    proxied.headers["X-Forwarded-Proto"] = "https"
    user = await create_staff(session, Role.ADMIN)
    login_page = await proxied.get("/admin/login")
    assert FORM_ACTION.findall(login_page.text) == ["https://testserver.local/admin/login"]

    response = await post_login(proxied, user.email)
    assert response.headers["location"] == "https://testserver.local/admin/"

    category = await factories.category(session)
    await session.commit()
    edit = await proxied.get(f"/admin/category/edit/{category.id}")
    assert_https_forms(edit.text, f"https://testserver.local/admin/category/edit/{category.id}")
    order = await factories.paid_order(session)
    await session.commit()
    action = await proxied.get(f"/admin/order/action/add-note?pks={order.id}")
    assert_https_forms(action.text, f"https://testserver.local/admin/order/action/add-note?pks={order.id}")
    assert 'data-refresh-url="https://' in (await proxied.get("/admin/fulfillment")).text


# -- NUL bytes in form bodies ----------------------------------------------------------------------------------


async def test_a_nul_in_the_login_form_is_a_clear_400_not_a_500(web, session):
    user = await create_staff(session, Role.ADMIN)

    for username in (f"{user.email}\x00", "\x00" * 300):
        response = await post_login(web, username)
        assert response.status_code == 400
        assert "NUL" in response.text
    assert (await post_login(web, user.email, "pass\x00word")).status_code == 400
    assert (await session.scalar(sa.select(sa.func.count()).select_from(LoginAttempts))) == 0


async def test_a_nul_in_a_create_form_is_a_clear_400_and_creates_nothing(web, session):
    staff = await login_as(session, web, Role.STAFF)
    page = await web.get("/admin/category/create")
    form = form_values(page.text)
    form.update(slug="nul-slug", name_de="Null\x00Byte", name_en="Nul", position="1", csrf_token=staff.csrf)

    urlencoded = await web.post("/admin/category/create", data=form, follow_redirects=False)
    # As a browser submits SQLAdmin's forms: multipart/form-data.
    multipart = await web.post(
        "/admin/category/create", files={key: (None, value) for key, value in form.items()}, follow_redirects=False
    )

    for response in (urlencoded, multipart):
        assert response.status_code == 400
        assert "NUL" in response.text
        assert_security_headers(response)
    assert "nul-slug" not in await category_slugs(session)
    assert await audit_rows(session) == []


async def test_a_nul_in_an_edit_form_is_a_clear_400_and_changes_nothing(web, session):
    staff = await login_as(session, web, Role.ADMIN)
    category = await factories.category(session)
    await session.commit()
    before = category.name_en
    form = form_values((await web.get(f"/admin/category/edit/{category.id}")).text)
    form.update(name_en="After\x00", csrf_token=staff.csrf)

    response = await web.post(
        f"/admin/category/edit/{category.id}",
        files={key: (None, value) for key, value in form.items()},
        follow_redirects=False,
    )

    assert response.status_code == 400
    await session.refresh(category)
    assert category.name_en == before


async def test_a_nul_in_an_action_form_is_a_clear_400_and_changes_nothing(web, session):
    staff = await login_as(session, web, Role.STAFF)
    order = await factories.paid_order(session)
    await session.commit()
    events_before = await session.scalar(sa.select(sa.func.count()).select_from(OrderEvent))
    url = f"/admin/order/action/add-note?pks={order.id}"
    assert action_error((await web.get(url)).text) is None

    response = await web.post(url, data={"note": "hello\x00world", "csrf_token": staff.csrf}, follow_redirects=False)

    assert response.status_code == 400
    assert "NUL" in response.text
    assert await session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)) == events_before
    fine = await web.post(url, data={"note": "hello world", "csrf_token": staff.csrf}, follow_redirects=False)
    assert fine.status_code == 303


# -- caching of secrets ----------------------------------------------------------------------------------------


async def test_the_reset_password_result_is_never_cached(web, session):
    admin = await login_as(session, web, Role.ADMIN)
    other = await create_staff(session, Role.STAFF)
    url = f"/admin/staff-user/action/reset-password?pks={other.id}"

    response = await web.post(url, data={"csrf_token": admin.csrf}, follow_redirects=False)

    assert response.status_code == 200
    assert 'data-testid="action-result"' in response.text
    assert response.headers["cache-control"] == "no-store"
    assert_security_headers(response)


async def test_a_page_with_a_flash_message_has_no_inline_script(web, session):
    staff = await login_as(session, web, Role.STAFF)
    order = await factories.paid_order(session)
    await session.commit()
    url = f"/admin/order/action/add-note?pks={order.id}"

    response = await web.post(url, data={"note": "flash me", "csrf_token": staff.csrf}, follow_redirects=True)

    assert response.status_code == 200
    assert "admin-toast" in response.text
    assert "<script>" not in response.text
