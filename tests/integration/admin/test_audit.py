"""Every create and edit in the back office writes one audit_log row: who, what, a before/after diff, the IP."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.models import Category
from tests import factories
from tests.integration.admin.helpers import ADMIN, audit_rows, form_values, login_as

TEST_CLIENT_IP = "testclient"  # what Litestar's test client reports as the peer address


async def create_category_via_form(web, csrf: str, **values: str):
    page = await web.get("/admin/category/create")
    assert page.status_code == 200
    form = form_values(page.text)
    assert {"slug", "platform", "name_de", "name_en", "position"} <= set(form)
    form.update(values, csrf_token=csrf)
    return await web.post("/admin/category/create", data=form, follow_redirects=False)


async def category_by_slug(session, slug: str) -> Category:
    stmt = sa.select(Category).where(Category.slug == slug).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one()


async def test_creating_a_category_writes_one_audit_row_with_actor_diff_and_ip(web, session):
    staff = await login_as(session, web, Role.STAFF)

    response = await create_category_via_form(
        web, staff.csrf, slug="audited", platform="tiktok", name_de="Geprüft", name_en="Audited", position="7"
    )

    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{ADMIN}/category/")
    category = await category_by_slug(session, "audited")
    (entry,) = await audit_rows(session)
    assert (entry.actor_id, entry.actor_label) == (staff.user.id, staff.email)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("create", "category", str(category.id))
    assert entry.ip == TEST_CLIENT_IP
    assert entry.diff["slug"] == {"before": None, "after": "audited"}
    assert entry.diff["platform"] == {"before": None, "after": "tiktok"}
    assert entry.diff["name_de"] == {"before": None, "after": "Geprüft"}
    assert entry.diff["position"] == {"before": None, "after": 7}


async def test_editing_a_category_writes_an_update_row_with_only_the_changed_fields(web, session):
    staff = await login_as(session, web, Role.ADMIN)
    await create_category_via_form(web, staff.csrf, slug="to-edit", name_de="Alt", name_en="Old", position="1")
    category = await category_by_slug(session, "to-edit")

    page = await web.get(f"/admin/category/edit/{category.id}")
    assert page.status_code == 200
    form = form_values(page.text)
    assert form["slug"] == "to-edit"
    form.update(name_en="Renamed", position="5", csrf_token=staff.csrf)
    response = await web.post(f"/admin/category/edit/{category.id}", data=form, follow_redirects=False)

    assert response.status_code == 302
    edited = await category_by_slug(session, "to-edit")
    assert (edited.name_en, edited.position, edited.name_de) == ("Renamed", 5, "Alt")
    create, update = await audit_rows(session, entity_type="category", entity_id=str(category.id))
    assert create.action == "create"
    assert (update.action, update.actor_label, update.ip) == ("update", staff.email, TEST_CLIENT_IP)
    changed = {field for field in update.diff if field != "updated_at"}  # the row's own timestamp may move too
    assert changed == {"name_en", "position"}
    assert update.diff["name_en"] == {"before": "Old", "after": "Renamed"}
    assert update.diff["position"] == {"before": 1, "after": 5}


async def test_a_refused_create_writes_no_audit_row(web, session):
    staff = await login_as(session, web, Role.STAFF)
    await create_category_via_form(web, staff.csrf, slug="twice", name_de="Eins", name_en="One")

    again = await create_category_via_form(web, staff.csrf, slug="twice", name_de="Zwei", name_en="Two")

    assert again.status_code == 400
    assert [row.action for row in await audit_rows(session)] == ["create"]


async def edit_provider_via_form(web, csrf: str, provider_id: int, **changes: str):
    page = await web.get(f"/admin/provider/edit/{provider_id}")
    assert page.status_code == 200
    form = form_values(page.text)
    assert "name" in form
    form.update(changes, csrf_token=csrf)
    return await web.post(f"/admin/provider/edit/{provider_id}", data=form, follow_redirects=False)


async def test_saving_the_provider_form_without_touching_the_api_key_keeps_it(web, session):
    upstream = await factories.provider(session, api_key="secret-key-1")
    await session.commit()
    staff = await login_as(session, web, Role.ADMIN)

    response = await edit_provider_via_form(web, staff.csrf, upstream.id, notes="checked the balance")

    assert response.status_code == 302
    await session.refresh(upstream, ["api_key", "notes"])  # the key is deferred: asked for by name
    assert (upstream.api_key, upstream.notes) == ("secret-key-1", "checked the balance")
    (update,) = await audit_rows(session, action="update")
    assert "api_key" not in update.diff


async def test_a_changed_api_key_is_audited_masked(web, session):
    upstream = await factories.provider(session, api_key="secret-key-1")
    await session.commit()
    staff = await login_as(session, web, Role.ADMIN)

    response = await edit_provider_via_form(web, staff.csrf, upstream.id, api_key="secret-key-2")

    assert response.status_code == 302
    await session.refresh(upstream, ["api_key"])
    assert upstream.api_key == "secret-key-2"
    (update,) = await audit_rows(session, action="update")
    assert update.diff["api_key"] == {"before": "***", "after": "***"}
    assert "secret-key" not in str(update.diff)
