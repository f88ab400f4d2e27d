"""Served with a key ring that cannot read a stored provider key: every page still loads, that provider says so.

Data is written under one secret, then the app is served with another (as after a changed ``SECRET_KEY``
without the old one in ``SMPLAT_ENCRYPTION_KEYS``). Lists and details that never show the key never load it; the
provider pages show "key unreadable — enter it again" on that provider alone, and entering the key again heals it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.asgi import create_app
from app.config import Settings, get_settings, use_settings
from app.fulfillment.credentials import ProviderKeyUnreadable, provider_api_key
from app.fulfillment.models import Provider
from tests import factories
from tests.integration.admin.helpers import audit_rows, create_staff, form_values, http_client, login, login_as

SECRET_A = "the-secret-the-data-was-written-with-" + "a" * 8
SECRET_B = "the-secret-the-app-is-served-with-now-" + "b" * 8
OLD_KEY = "sk-old-provider-key-7f3a9"  # written under A
NEW_KEY = "sk-new-provider-key-c41d2"  # written under B
NOTICE = "key unreadable — enter it again"


@pytest.fixture(autouse=True)
def restore_settings() -> Iterator[None]:
    """Apps created here make their settings the process's; put the test process's back afterwards."""
    previous = get_settings()
    yield
    use_settings(previous)


def under(settings: Settings, secret: str) -> Settings:
    return replace(settings, secret_key=secret, encryption_keys=())


async def stored_token(session, provider_id: int) -> str:
    return await session.scalar(sa.text("SELECT api_key FROM provider WHERE id = :id"), {"id": provider_id})


def row_of(page: str, name: str) -> str:
    (row,) = [row for row in re.split(r"<tr[ >]", page) if f">{name}<" in row or f"{name}</" in row]
    return row


@pytest.fixture
async def written_under_a(session, settings):
    """A provider whose key was encrypted under secret A, with a provider service, a service and an order on it."""
    use_settings(under(settings, SECRET_A))
    upstream = await factories.provider(session, name="Old Upstream", api_key=OLD_KEY)
    offer = await factories.provider_service(session, upstream)
    service = await factories.service(session, upstream=offer)
    order = await factories.paid_order(session, items=[(service, 1000, "https://www.instagram.com/p/KeyRing1/")])
    order.lines[0].provider_id = upstream.id
    order.lines[0].provider_service_id = offer.id
    await session.commit()
    return upstream, order


async def test_pages_load_when_no_key_of_the_ring_reads_a_provider_key(session, settings, written_under_a, capfd):
    upstream, order = written_under_a
    app = create_app(under(settings, SECRET_B))
    fresh = await factories.provider(session, name="Fresh Upstream", api_key=NEW_KEY)  # written under B
    await session.commit()

    async with http_client(app, raise_server_exceptions=False) as web:
        await login_as(session, web, Role.ADMIN)
        pages = {
            url: await web.get(url)
            for url in (
                "/admin/order/list",
                "/admin/order-line/list",
                f"/admin/order/details/{order.id}",
                f"/admin/order-line/details/{order.lines[0].id}",
                "/admin/provider/list",
                f"/admin/provider/details/{upstream.id}",
                f"/admin/provider/details/{fresh.id}",
                f"/admin/provider/edit/{upstream.id}",
                "/admin/provider-service/list",
                "/admin/service/list",
                "/admin/dashboard",
                "/admin/fulfillment",
                "/admin/provider/export/csv",
            )
        }

    assert {url: page.status_code for url, page in pages.items()} == dict.fromkeys(pages, 200)
    assert order.number in pages["/admin/order/list"].text
    listing = pages["/admin/provider/list"].text
    assert NOTICE in row_of(listing, "Old Upstream")
    assert NOTICE not in row_of(listing, "Fresh Upstream")
    assert 'data-testid="api-key-stored"' in row_of(listing, "Fresh Upstream")
    assert NOTICE in pages[f"/admin/provider/details/{upstream.id}"].text
    assert NOTICE not in pages[f"/admin/provider/details/{fresh.id}"].text
    for page in pages.values():
        assert OLD_KEY not in page.text
        assert NEW_KEY not in page.text
    logged = capfd.readouterr()
    assert OLD_KEY not in logged.out + logged.err
    assert NEW_KEY not in logged.out + logged.err


async def test_code_that_needs_an_unreadable_key_is_refused_with_the_providers_name(session, settings, written_under_a):
    upstream, _order = written_under_a
    use_settings(under(settings, SECRET_B))
    fresh = await factories.provider(session, name="Fresh Upstream", api_key=NEW_KEY)

    with pytest.raises(ProviderKeyUnreadable) as refused:
        await provider_api_key(session, upstream.id)

    assert "Old Upstream" in refused.value.message
    assert OLD_KEY not in refused.value.message
    assert await provider_api_key(session, fresh.id) == NEW_KEY


async def test_a_german_staff_member_reads_the_notice_in_german(session, settings, written_under_a):
    upstream, _order = written_under_a
    app = create_app(under(settings, SECRET_B))
    staff = await create_staff(session, Role.ADMIN, locale="de")

    async with http_client(app) as web:
        await login(web, staff.email)
        details = await web.get(f"/admin/provider/details/{upstream.id}")

    assert details.status_code == 200
    assert "Schlüssel unlesbar – bitte neu eingeben" in details.text
    assert NOTICE not in details.text


async def test_entering_the_key_again_makes_the_provider_readable(session, settings, written_under_a):
    upstream, _order = written_under_a
    unreadable_token = await stored_token(session, upstream.id)
    app = create_app(under(settings, SECRET_B))

    async with http_client(app) as web:
        staff = await login_as(session, web, Role.ADMIN)

        async def save(**changes: str) -> None:
            form = form_values((await web.get(f"/admin/provider/edit/{upstream.id}")).text)
            form.update(changes, csrf_token=staff.csrf)
            response = await web.post(f"/admin/provider/edit/{upstream.id}", data=form, follow_redirects=False)
            assert response.status_code == 302

        await save(notes="balance checked")  # the key field left empty: the stored value stays as it was
        assert await stored_token(session, upstream.id) == unreadable_token

        await save(api_key=NEW_KEY)
        details = await web.get(f"/admin/provider/details/{upstream.id}")

    assert NOTICE not in details.text
    assert 'data-testid="api-key-stored"' in details.text
    assert await provider_api_key(session, upstream.id) == NEW_KEY
    first, second = await audit_rows(session, entity_type="provider", action="update")
    assert "api_key" not in first.diff
    assert second.diff["api_key"] == {"before": "***", "after": "***"}
    assert NEW_KEY not in str(second.diff)


async def test_lists_never_load_the_provider_key(session, written_under_a):
    """Loading a provider (directly or through a provider service) leaves the key out unless asked for."""
    upstream, _order = written_under_a
    session.expunge_all()
    loaded = await session.get(Provider, upstream.id)

    assert "api_key" not in sa.inspect(loaded).dict
    with pytest.raises(sa.exc.InvalidRequestError, match="api_key"):
        _ = loaded.api_key
