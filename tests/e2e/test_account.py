"""A staff member's own account in Chromium: logging out from the user menu, a forced password change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from app.accounts.commands import create_staff_user
from app.accounts.models import Role
from app.actors import Actor
from app.db.session import engine_for, transaction
from app.uow import UnitOfWork
from tests.e2e.conftest import PASSWORD, LiveServer, login

pytestmark = pytest.mark.e2e

LOGIN_PAGE = re.compile(r"/admin/login$")


async def test_logging_out_from_the_user_menu_ends_the_session(page: Any, live_server: LiveServer, shot: Any) -> None:
    await login(page, live_server, Role.STAFF, path="/admin/order/list")

    await page.locator("[data-testid=user-menu] > a").click()
    await shot(page, "user-menu")
    await page.locator("[data-testid=logout]").click()

    await page.wait_for_url(LOGIN_PAGE)
    await page.goto(live_server.url("/admin/order/list"))
    await page.wait_for_url(LOGIN_PAGE)


async def test_the_side_menu_logout_link_asks_before_logging_out(page: Any, live_server: LiveServer) -> None:
    await login(page, live_server, Role.FINANCE)

    await page.get_by_role("link", name="Logout").click()
    await expect(page.locator("[data-testid=confirm-logout]")).to_be_visible()
    await page.goto(live_server.url("/admin/order/list"))  # only asked: still logged in
    await expect(page.locator("table thead")).to_be_visible()

    await page.get_by_role("link", name="Logout").click()
    await page.locator("[data-testid=confirm-logout]").click()
    await page.wait_for_url(LOGIN_PAGE)


async def test_a_password_set_by_an_admin_must_be_changed_before_anything_else(
    page: Any, live_server: LiveServer, shot: Any
) -> None:
    email, initial = "handed-over@e2e.example", "initial password from the admin"
    async with engine_for(live_server.database_url) as engine, transaction(engine) as session:
        await create_staff_user(
            UnitOfWork(session),
            email=email,
            password=initial,
            role=Role.STAFF,
            locale="en",
            actor=Actor.system("e2e setup"),
            must_change_password=True,
        )

    await login_form(page, live_server, email, initial)
    await page.wait_for_url(re.compile(r"/admin/account/password$"))
    await expect(page.locator("[data-testid=password-change-required]")).to_be_visible()
    await page.goto(live_server.url("/admin/order/list"))
    await page.wait_for_url(re.compile(r"/admin/account/password$"))  # nothing else opens yet
    await shot(page, "change-password")

    await page.fill("#current_password", initial)
    await page.fill("#new_password", PASSWORD + " of my own")
    await page.fill("#repeat_password", PASSWORD + " of my own")
    await page.locator("[data-testid=change-password]").click()

    await page.wait_for_url(re.compile(r"/admin/?$"))
    await page.goto(live_server.url("/admin/order/list"))
    await expect(page.locator("table thead")).to_be_visible()


async def login_form(page: Any, live_server: LiveServer, email: str, password: str) -> None:
    await page.goto(live_server.url("/admin/login"))
    await page.fill("#username", email)
    await page.fill("#password", password)
    await page.click("form button[type=submit]")
