"""Staff accounts in the back office: every change goes through the account commands, one audit row per account."""

from __future__ import annotations

import json

import sqlalchemy as sa

from app.accounts.models import Role, StaffUser
from app.actors import ActorKind
from tests.integration.admin.helpers import (
    action_error,
    audit_rows,
    create_staff,
    form_values,
    login,
    login_as,
    offered_options,
)

TEST_CLIENT_IP = "testclient"


async def act(web, csrf: str, slug: str, *user_ids: int, follow: bool = False):
    pks = ",".join(str(pk) for pk in user_ids)
    return await web.post(
        f"/admin/staff-user/action/{slug}?pks={pks}", data={"csrf_token": csrf}, follow_redirects=follow
    )


async def account(session, user_id: int) -> StaffUser:
    stmt = sa.select(StaffUser).where(StaffUser.id == user_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one()


async def account_rows(session, **where):
    return await audit_rows(session, entity_type="staff_user", **where)


async def test_creating_an_account_writes_one_audit_row_without_the_initial_password(web, session):
    admin = await login_as(session, web, Role.ADMIN)
    form = form_values((await web.get("/admin/staff-user/create")).text)
    form.update(email="Neu@SMPLat.example", name="Neu", role="finance", locale="de", csrf_token=admin.csrf)

    created = await web.post("/admin/staff-user/create", data=form, follow_redirects=False)

    assert created.status_code == 200
    assert 'data-testid="initial-password"' in created.text
    user = (await session.scalars(sa.select(StaffUser).where(StaffUser.email == "neu@smplat.example"))).one()
    assert user.must_change_password
    (row,) = await audit_rows(session)
    assert (row.action, row.entity_type, row.entity_id) == ("create", "staff_user", str(user.id))
    assert (row.actor_kind, row.actor_id, row.actor_label, row.ip) == (
        ActorKind.STAFF,
        admin.user.id,
        admin.email,
        TEST_CLIENT_IP,
    )
    assert row.diff["role"] == {"before": None, "after": "finance"}
    assert row.diff["password_hash"] == {"before": None, "after": "***"}
    assert "$argon2" not in json.dumps(row.diff)


async def test_editing_an_account_writes_one_update_row_with_the_changed_fields(web, session):
    user = await create_staff(session, Role.STAFF, name="Old Name")
    admin = await login_as(session, web, Role.ADMIN)
    form = form_values((await web.get(f"/admin/staff-user/edit/{user.id}")).text)
    form.update(name="New Name", role="staff", csrf_token=admin.csrf)  # the stored role, sent explicitly

    saved = await web.post(f"/admin/staff-user/edit/{user.id}", data=form, follow_redirects=False)

    assert saved.status_code == 302
    (row,) = await audit_rows(session)
    assert (row.action, row.entity_id, row.actor_id) == ("update", str(user.id), admin.user.id)
    assert row.diff == {"name": {"before": "Old Name", "after": "New Name"}}


async def test_deactivating_two_accounts_writes_a_row_for_each(web, session):
    first, second = await create_staff(session, Role.STAFF), await create_staff(session, Role.FINANCE)
    admin = await login_as(session, web, Role.ADMIN)

    done = await act(web, admin.csrf, "deactivate", second.id, first.id)

    assert done.status_code == 303, action_error(done.text)
    assert not (await account(session, first.id)).is_active
    assert not (await account(session, second.id)).is_active
    rows = await account_rows(session, action="deactivate")
    assert [row.entity_id for row in rows] == [str(first.id), str(second.id)]  # ascending, as locked
    assert all(row.diff["is_active"] == {"before": True, "after": False} for row in rows)
    assert all(row.actor_id == admin.user.id for row in rows)


async def test_a_password_reset_is_audited_per_account_and_the_password_appears_nowhere_but_once(web, session):
    user = await create_staff(session, Role.STAFF)
    admin = await login_as(session, web, Role.ADMIN)

    reset = await act(web, admin.csrf, "reset-password", user.id)

    assert reset.status_code == 200
    password = reset.text.split(f"{user.email}: ", 1)[1].split("<", 1)[0]
    (row,) = await account_rows(session, action="reset-password")
    assert row.entity_id == str(user.id)
    assert row.diff["password_hash"] == {"before": "***", "after": "***"}
    assert row.diff["must_change_password"] == {"before": False, "after": True}
    every_row = json.dumps([(r.action, r.diff) for r in await audit_rows(session)])
    assert password not in every_row
    assert "$argon2" not in every_row


async def test_an_admin_cannot_deactivate_themselves_and_nothing_is_written(web, session):
    await create_staff(session, Role.ADMIN)  # not the last admin: the own-account rule is what refuses
    admin = await login_as(session, web, Role.ADMIN)

    refused = await act(web, admin.csrf, "deactivate", admin.user.id)

    assert refused.status_code == 409
    assert action_error(refused.text) == "You cannot deactivate your own account."
    assert (await account(session, admin.user.id)).is_active
    assert await account_rows(session) == []


async def test_a_german_admin_reads_the_refusal_in_german(web, session):
    admin_user = await create_staff(session, Role.ADMIN, locale="de")
    csrf = await login(web, admin_user.email)
    web.headers["Accept-Language"] = "de"

    refused = await act(web, csrf, "deactivate", admin_user.id)

    assert refused.status_code == 409
    assert action_error(refused.text) == "Sie können Ihr eigenes Konto nicht deaktivieren."


async def test_the_last_admin_keeps_the_admin_role_when_edited_by_themselves(web, session):
    admin = await login_as(session, web, Role.ADMIN)
    form = form_values((await web.get(f"/admin/staff-user/edit/{admin.user.id}")).text)
    form.update(role="staff", csrf_token=admin.csrf)

    refused = await web.post(f"/admin/staff-user/edit/{admin.user.id}", data=form, follow_redirects=False)

    assert refused.status_code == 400
    assert "You cannot remove your own admin role." in refused.text
    assert (await account(session, admin.user.id)).role == Role.ADMIN
    assert await account_rows(session) == []


async def test_a_new_account_is_staff_and_german_unless_chosen_otherwise(web, session):
    await login_as(session, web, Role.ADMIN)

    page = (await web.get("/admin/staff-user/create")).text

    form = form_values(page)
    assert (form["role"], form["locale"]) == ("staff", "de")
    assert offered_options(page)["locale"] == ["de", "en"]  # a choice, not free text
    assert "Finance reads everything money depends on" in page  # the roles are explained on the form


async def test_a_role_change_without_confirmation_changes_nothing(web, session):
    user = await create_staff(session, Role.STAFF, name="Kim")
    admin = await login_as(session, web, Role.ADMIN)
    form = form_values((await web.get(f"/admin/staff-user/edit/{user.id}")).text)
    form.update(role="finance", csrf_token=admin.csrf)
    form.pop("confirm_role_change", None)

    refused = await web.post(f"/admin/staff-user/edit/{user.id}", data=form, follow_redirects=False)

    assert refused.status_code == 400
    assert "confirm the role change" in refused.text
    assert (await account(session, user.id)).role == Role.STAFF
    assert await account_rows(session) == []


async def test_a_confirmed_role_change_is_saved(web, session):
    user = await create_staff(session, Role.STAFF)
    admin = await login_as(session, web, Role.ADMIN)
    form = form_values((await web.get(f"/admin/staff-user/edit/{user.id}")).text)
    form.update(role="finance", confirm_role_change="y", csrf_token=admin.csrf)

    saved = await web.post(f"/admin/staff-user/edit/{user.id}", data=form, follow_redirects=False)

    assert saved.status_code == 302
    assert (await account(session, user.id)).role == Role.FINANCE
    (row,) = await account_rows(session, action="update")
    assert row.diff["role"] == {"before": "staff", "after": "finance"}


async def test_the_language_switch_is_saved_to_the_profile(web, session):
    staff = await login_as(session, web, Role.STAFF)  # an English-speaking account

    switched = await web.get("/admin/?lang=de")

    assert switched.status_code == 200
    assert (await account(session, staff.user.id)).locale == "de"
    (row,) = await account_rows(session, action="choose-language")
    assert row.diff == {"locale": {"before": "en", "after": "de"}}
    await web.get("/admin/?lang=de")  # the same choice again changes nothing
    assert len(await account_rows(session, action="choose-language")) == 1
