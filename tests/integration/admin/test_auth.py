"""Staff login to the back office: success, refusals, the per IP+email lockout, logout."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from app.accounts import passwords, services
from app.accounts.commands import set_staff_active
from app.accounts.models import Role
from app.accounts.services import LoginThrottle
from app.actors import Actor
from app.uow import UnitOfWork
from tests import factories
from tests.integration.admin.helpers import (
    ADMIN,
    BASE,
    PEER_HEADER,
    AsServerSeesIt,
    create_staff,
    csrf_from,
    form_values,
    log_out,
    login,
    post_login,
    session_csrf,
)

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
    await set_staff_active(UnitOfWork(session), user_ids=[user.id], active=False, actor=Actor.system("test"))
    await session.commit()

    response = await post_login(web, user.email)

    assert response.status_code == 400
    assert REFUSED in response.text
    assert (await web.get("/admin/", follow_redirects=False)).status_code == 302


async def test_deactivating_a_logged_in_user_ends_their_session(web, session):
    user = await create_staff(session, Role.STAFF)
    await login(web, user.email)
    assert (await web.get("/admin/order/list")).status_code == 200

    await set_staff_active(UnitOfWork(session), user_ids=[user.id], active=False, actor=Actor.system("test"))
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

    await log_out(web)
    for _ in range(LoginThrottle.MAX_FAILURES - 1):
        await post_login(web, user.email, WRONG)
    assert (await post_login(web, user.email)).status_code == 302


async def test_logout_clears_the_session(web, session):
    user = await create_staff(session, Role.ADMIN)
    csrf = await login(web, user.email)
    assert (await web.get("/admin/", follow_redirects=False)).status_code == 200

    response = await web.post("/admin/logout", data={"csrf_token": csrf}, follow_redirects=False)

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


# -- sessions end on the server: a saved copy of the cookie stops working -------------------------------------


async def staff_action(client, csrf: str, slug: str, user_id: int, **fields: str):
    return await client.post(
        f"/admin/staff-user/action/{slug}?pks={user_id}", data={**fields, "csrf_token": csrf}, follow_redirects=False
    )


async def replay(web, saved: httpx.Cookies, path: str = "/admin/order/list"):
    """A request with a copy of the session cookie taken earlier (as a thief or a stale tab would send it)."""
    web.cookies = httpx.Cookies(saved)
    return await web.get(path, follow_redirects=False)


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["location"] == f"{ADMIN}/login"


async def test_a_cookie_saved_before_logout_no_longer_works(web, session):
    user = await create_staff(session, Role.STAFF)
    await login(web, user.email)
    saved = httpx.Cookies(web.cookies)
    assert (await replay(web, saved)).status_code == 200

    assert sent_to_login(await log_out(web))

    assert sent_to_login(await replay(web, saved))
    assert sent_to_login(await replay(web, saved, "/admin/"))


async def browser(web, email: str) -> httpx.Cookies:
    """A separate browser logged in as ``email``: its cookie jar (switch with ``web.cookies = jar``)."""
    web.cookies = httpx.Cookies()
    await login(web, email)
    return httpx.Cookies(web.cookies)


async def as_admin(web, session) -> str:
    """Switch ``web`` to a new admin's browser; the CSRF token to post with."""
    admin = await create_staff(session, Role.ADMIN)
    await browser(web, admin.email)
    return await session_csrf(web)


async def test_logging_out_in_one_browser_keeps_the_other_browsers_session(web, session):
    user = await create_staff(session, Role.STAFF)
    laptop = await browser(web, user.email)
    await browser(web, user.email)

    await log_out(web)

    assert (await replay(web, laptop)).status_code == 200


async def test_a_password_reset_by_an_admin_ends_the_users_sessions(web, session):
    user = await create_staff(session, Role.STAFF)
    saved = await browser(web, user.email)
    csrf = await as_admin(web, session)

    reset = await staff_action(web, csrf, "reset-password", user.id)

    assert reset.status_code == 200
    assert f"{user.email}: " in reset.text
    assert (await web.get("/admin/staff-user/list", follow_redirects=False)).status_code == 200  # admin stays in
    assert sent_to_login(await replay(web, saved))
    web.cookies = httpx.Cookies()
    assert (await post_login(web, user.email)).status_code == 400  # the old password is gone too


async def test_deactivation_by_an_admin_ends_the_users_sessions(web, session):
    user = await create_staff(session, Role.STAFF)
    saved = await browser(web, user.email)
    csrf = await as_admin(web, session)

    assert (await staff_action(web, csrf, "deactivate", user.id)).status_code == 303

    assert sent_to_login(await replay(web, saved))


async def test_a_role_change_ends_the_users_sessions(web, session):
    user = await create_staff(session, Role.STAFF)
    saved = await browser(web, user.email)
    csrf = await as_admin(web, session)
    form = form_values((await web.get(f"/admin/staff-user/edit/{user.id}")).text)
    form.update(role="finance", confirm_role_change="y", csrf_token=csrf)

    saved_form = await web.post(f"/admin/staff-user/edit/{user.id}", data=form, follow_redirects=False)

    assert saved_form.status_code == 302
    assert sent_to_login(await replay(web, saved))
    await browser(web, user.email)  # a new login gets the new role
    assert (await web.get("/admin/payment/list", follow_redirects=False)).status_code == 200


async def test_log_out_everywhere_ends_all_sessions_of_the_account(web, session):
    user = await create_staff(session, Role.STAFF)
    saved = [await browser(web, user.email), await browser(web, user.email)]
    csrf = await as_admin(web, session)

    assert (await staff_action(web, csrf, "end-sessions", user.id)).status_code == 303

    for jar in saved:
        assert sent_to_login(await replay(web, jar))


# -- logging out is a POST with the CSRF token -----------------------------------------------------------------


async def test_a_get_of_the_logout_url_asks_and_logs_nobody_out(web, session):
    user = await create_staff(session, Role.STAFF)
    await login(web, user.email)

    page = await web.get("/admin/logout", follow_redirects=False)

    assert page.status_code == 200
    assert 'data-testid="confirm-logout"' in page.text
    assert form_values(page.text)["csrf_token"] == await session_csrf(web)
    assert (await web.get("/admin/order/list", follow_redirects=False)).status_code == 200


async def test_a_logout_post_without_the_csrf_token_is_refused(web, session):
    user = await create_staff(session, Role.STAFF)
    await login(web, user.email)

    response = await web.post("/admin/logout", data={}, follow_redirects=False)

    assert response.status_code == 403
    assert (await web.get("/admin/order/list", follow_redirects=False)).status_code == 200


async def test_the_user_menu_logs_out_with_a_post_form(web, session):
    user = await create_staff(session, Role.FINANCE)
    await login(web, user.email)
    page = (await web.get("/admin/order/list")).text
    menu = page[page.index('data-testid="user-menu"') :]
    assert 'form="logout-form"' in menu[: menu.index('data-testid="logout"') + 30]
    logout_form = page[page.index('<form id="logout-form"') :]
    logout_form = logout_form[: logout_form.index("</form>") + len("</form>")]
    assert f'action="{ADMIN}/logout"' in logout_form
    assert 'method="POST"' in logout_form

    response = await web.post("/admin/logout", data=form_values(logout_form), follow_redirects=False)

    assert sent_to_login(response)
    assert sent_to_login(await web.get("/admin/order/list", follow_redirects=False))


async def test_a_get_of_the_logout_url_without_a_session_goes_to_the_login(web):
    assert sent_to_login(await web.get("/admin/logout", follow_redirects=False))


# -- the throttle holds under a parallel burst; odd logins are ordinary failures ------------------------------


async def test_a_parallel_burst_of_wrong_passwords_checks_at_most_the_limit(app, session, monkeypatch):
    user = await create_staff(session, Role.ADMIN)
    checks = []

    def counting_verify(password_hash, password):
        checks.append(password)
        return passwords.verify_password(password_hash, password)

    monkeypatch.setattr(services, "verify_password", counting_verify)
    # Not the test client (it hands requests to the app one at a time): all 30 are in the app at once.
    transport = httpx.ASGITransport(app=AsServerSeesIt(app))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=BASE) as browser:
        browser.headers["Accept-Language"] = "en"
        token = csrf_from((await browser.get("/admin/login")).text)

        async def attempt(n: int):
            return await browser.post(
                "/admin/login",
                data={"username": user.email, "password": f"guess {n}", "csrf_token": token},
                headers={PEER_HEADER.decode(): "198.51.100.20"},
                follow_redirects=False,
            )

        responses = await asyncio.gather(*(attempt(n) for n in range(30)))

    assert len(checks) <= LoginThrottle.MAX_FAILURES
    assert {response.status_code for response in responses} == {400}
    assert all('name="username"' in response.text for response in responses)  # the login page, each time
    refused = [response for response in responses if REFUSED in response.text]
    locked = [response for response in responses if LOCKED in response.text]
    assert len(refused) == len(checks)
    assert len(refused) + len(locked) == 30


@pytest.mark.parametrize("username", ["x" * 300, "a" * 250 + "@smplat.example", "ops\x01@smplat.example"])
async def test_an_impossible_username_is_an_ordinary_failed_login_that_counts(web, username):
    for _ in range(LoginThrottle.MAX_FAILURES):
        response = await post_login(web, username)
        assert response.status_code == 400
        assert REFUSED in response.text

    locked = await post_login(web, username)

    assert locked.status_code == 400
    assert LOCKED in locked.text


# -- a password someone else chose must be changed at the next login ------------------------------------------


async def change_password(client, current: str, new: str, repeat: str | None = None):
    page = await client.get("/admin/account/password")
    assert page.status_code == 200
    form = form_values(page.text)
    form.update(current_password=current, new_password=new, repeat_password=new if repeat is None else repeat)
    return await client.post("/admin/account/password", data=form, follow_redirects=False)


async def test_after_an_admin_reset_the_next_login_must_change_the_password_first(web, session):
    user = await create_staff(session, Role.STAFF)
    csrf = await as_admin(web, session)
    reset = await staff_action(web, csrf, "reset-password", user.id)
    temporary = re.search(rf"{re.escape(user.email)}: (\S+?)<", reset.text).group(1)
    web.cookies = httpx.Cookies()

    landed = await post_login(web, user.email, temporary)

    assert landed.status_code == 302
    assert landed.headers["location"] == f"{ADMIN}/account/password"
    for path in ("/admin/", "/admin/order/list", "/admin/customer/list"):
        blocked = await web.get(path, follow_redirects=False)
        assert blocked.status_code == 303
        assert blocked.headers["location"] == f"{ADMIN}/account/password"
    page = await web.get("/admin/account/password")
    assert 'data-testid="password-change-required"' in page.text

    changed = await change_password(web, temporary, "my own good passphrase")

    assert changed.status_code == 303
    assert (await web.get("/admin/order/list", follow_redirects=False)).status_code == 200
    await log_out(web)
    assert (await post_login(web, user.email, temporary)).status_code == 400
    assert (await post_login(web, user.email, "my own good passphrase")).status_code == 302
    assert (await web.get("/admin/order/list", follow_redirects=False)).status_code == 200


async def test_a_new_account_created_in_the_admin_must_change_its_initial_password(web, session):
    csrf = await as_admin(web, session)
    form = form_values((await web.get("/admin/staff-user/create")).text)
    form.update(email="newbie@smplat.example", name="New Bie", role="staff", locale="en", csrf_token=csrf)
    created = await web.post("/admin/staff-user/create", data=form, follow_redirects=False)
    assert created.status_code == 200
    initial = re.search(r'data-testid="initial-password"><code[^>]*>([^<]+)<', created.text).group(1)
    web.cookies = httpx.Cookies()

    landed = await post_login(web, "newbie@smplat.example", initial)

    assert landed.headers["location"] == f"{ADMIN}/account/password"
    assert (await change_password(web, initial, "newbies own passphrase")).status_code == 303
    assert (await web.get("/admin/order/list", follow_redirects=False)).status_code == 200


async def test_changing_ones_password_from_the_user_menu_ends_the_other_sessions(web, session):
    user = await create_staff(session, Role.FINANCE)
    laptop = await browser(web, user.email)
    await browser(web, user.email)
    menu = (await web.get("/admin/order/list")).text
    assert f'href="{ADMIN}/account/password"' in menu

    changed = await change_password(web, factories.STAFF_PASSWORD, "a fresh finance passphrase")

    assert changed.status_code == 303
    assert (await web.get("/admin/order/list", follow_redirects=False)).status_code == 200
    here = httpx.Cookies(web.cookies)
    assert sent_to_login(await replay(web, laptop))
    assert (await replay(web, here)).status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "repeat", "message"),
    [
        ("not my password", "a fresh passphrase", None, "is not your current password"),
        (factories.STAFF_PASSWORD, "a fresh passphrase", "another passphrase", "does not match the new password"),
        (factories.STAFF_PASSWORD, "short", None, "must be at least 10 characters"),
        (factories.STAFF_PASSWORD, factories.STAFF_PASSWORD, None, "must differ from the current password"),
    ],
)
async def test_a_refused_password_change_says_why_and_changes_nothing(web, session, current, new, repeat, message):
    user = await create_staff(session, Role.STAFF)
    await login(web, user.email)

    refused = await change_password(web, current, new, repeat)

    assert refused.status_code == 400
    assert message in refused.text
    await log_out(web)
    assert (await post_login(web, user.email)).status_code == 302


async def test_guessing_the_current_password_is_throttled(web, session):
    user = await create_staff(session, Role.STAFF)
    await login(web, user.email)
    for _ in range(LoginThrottle.MAX_FAILURES):
        assert (await change_password(web, "a guess at it", "a fresh passphrase")).status_code == 400

    throttled = await change_password(web, factories.STAFF_PASSWORD, "a fresh passphrase")

    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.text
