"""Staff login to the back office: success, refusals, the per IP+email lockout, logout."""

from __future__ import annotations

from app.accounts.models import Role
from app.accounts.services import LoginThrottle, StaffUserService
from tests.integration.admin.helpers import ADMIN, create_staff, csrf_from, login, post_login, session_csrf

WRONG = "not the password"
LOCKED = "Too many failed logins"
REFUSED = "Wrong email or password"


async def test_login_succeeds_redirects_to_the_dashboard_and_the_dashboard_shows(web, session):
    user = await create_staff(session, Role.STAFF)

    response = await post_login(web, user.email)

    assert response.status_code == 302
    assert response.headers["location"] == f"{ADMIN}/"
    dashboard = await web.get("/admin/", follow_redirects=False)
    assert dashboard.status_code == 200
    assert 'data-testid="revenue"' in dashboard.text
    assert 'data-testid="orders-by-status"' in dashboard.text


async def test_login_email_is_case_and_space_insensitive(web, session):
    user = await create_staff(session, Role.FINANCE)
    response = await post_login(web, f"  {user.email.upper()} ")
    assert response.status_code == 302


async def test_wrong_password_is_refused_with_a_message_and_no_session(web, session):
    user = await create_staff(session, Role.ADMIN)

    response = await post_login(web, user.email, WRONG)

    assert response.status_code == 400
    assert REFUSED in response.text
    after = await web.get("/admin/", follow_redirects=False)
    assert after.status_code == 302
    assert after.headers["location"] == f"{ADMIN}/login"


async def test_unknown_email_gets_the_same_refusal_as_a_wrong_password(web, session):
    await create_staff(session, Role.ADMIN)
    response = await post_login(web, "nobody@smplat.example", WRONG)
    assert response.status_code == 400
    assert REFUSED in response.text


async def test_deactivated_user_is_refused(web, session):
    user = await create_staff(session, Role.STAFF)
    await StaffUserService(session=session).set_active(user.id, active=False, acting_user_id=None)
    await session.commit()

    response = await post_login(web, user.email)

    assert response.status_code == 400
    assert REFUSED in response.text
    assert (await web.get("/admin/", follow_redirects=False)).status_code == 302


async def test_deactivating_a_logged_in_user_ends_their_session(web, session):
    user = await create_staff(session, Role.STAFF)
    await login(web, user.email)
    assert (await web.get("/admin/order/list")).status_code == 200

    await StaffUserService(session=session).set_active(user.id, active=False, acting_user_id=None)
    await session.commit()

    response = await web.get("/admin/order/list", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == f"{ADMIN}/login"


async def test_five_failures_lock_the_ip_and_email_and_even_the_right_password_is_refused(web, session):
    user = await create_staff(session, Role.ADMIN)
    for _ in range(LoginThrottle.MAX_FAILURES):
        failed = await post_login(web, user.email, WRONG)
        assert failed.status_code == 400
        assert LOCKED not in failed.text

    locked = await post_login(web, user.email)

    assert locked.status_code == 400
    assert LOCKED in locked.text
    assert (await web.get("/admin/", follow_redirects=False)).status_code == 302


async def test_the_lockout_is_per_email_other_accounts_from_the_same_ip_still_log_in(web, session):
    victim = await create_staff(session, Role.ADMIN)
    colleague = await create_staff(session, Role.STAFF)
    for _ in range(LoginThrottle.MAX_FAILURES):
        await post_login(web, victim.email, WRONG)

    response = await post_login(web, colleague.email)

    assert response.status_code == 302


async def test_the_lockout_is_per_ip_the_same_email_from_another_address_still_logs_in(web, session):
    user = await create_staff(session, Role.ADMIN)
    for _ in range(LoginThrottle.MAX_FAILURES):
        await post_login(web, user.email, WRONG, peer="198.51.100.7")
    assert LOCKED in (await post_login(web, user.email, peer="198.51.100.7")).text

    response = await post_login(web, user.email, peer="203.0.113.9")

    assert response.status_code == 302


async def test_fewer_than_five_failures_do_not_lock_and_a_success_resets_the_count(web, session):
    user = await create_staff(session, Role.STAFF)
    for _ in range(LoginThrottle.MAX_FAILURES - 1):
        await post_login(web, user.email, WRONG)
    assert (await post_login(web, user.email)).status_code == 302

    await web.get("/admin/logout")
    for _ in range(LoginThrottle.MAX_FAILURES - 1):
        await post_login(web, user.email, WRONG)
    assert (await post_login(web, user.email)).status_code == 302


async def test_logout_clears_the_session(web, session):
    user = await create_staff(session, Role.ADMIN)
    await login(web, user.email)
    assert (await web.get("/admin/", follow_redirects=False)).status_code == 200

    response = await web.get("/admin/logout", follow_redirects=False)

    assert response.status_code == 302
    assert response.headers["location"] == f"{ADMIN}/login"
    after = await web.get("/admin/", follow_redirects=False)
    assert after.status_code == 302
    assert after.headers["location"] == f"{ADMIN}/login"
    assert (await web.get("/admin/order/list", follow_redirects=False)).status_code == 302


async def test_login_gives_a_fresh_csrf_token_the_one_from_before_no_longer_works(web, session):
    user = await create_staff(session, Role.ADMIN)
    before = csrf_from((await web.get("/admin/login")).text)

    await login(web, user.email)

    assert await session_csrf(web) != before
    stale = await web.post("/admin/category/create", data={"slug": "x", "csrf_token": before})
    assert stale.status_code == 403
