"""Every kind of back-office page carries the security headers, is never cached and has no inline script.

The CSP allows scripts from our own origin only; a page with an inline ``<script>`` or an ``on…=`` handler
would silently lose that behaviour in the browser (tests/e2e/test_csp.py watches the browser's side).
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa

from admin.pages.dashboard import DashboardView
from app.accounts.models import Role, StaffUser
from app.catalog.models import Service
from app.customers.models import Customer
from app.orders.models import Order
from tests.integration.admin.helpers import BASE
from tests.integration.edge_checks import assert_security_headers, log_lines


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.inline.append(f"<{tag} {name}={value}>")
        if tag == "script":
            src = dict(attrs).get("src")
            if src:
                self.sources.append(src)
            else:
                self.inline.append("<script> without src")


def assert_no_inline_script(html: str) -> list[str]:
    parser = _Scripts()
    parser.feed(html)
    assert parser.inline == []
    for src in parser.sources:
        assert (src.startswith("/") and not src.startswith("//")) or src.startswith(BASE + "/"), src
    return parser.sources


def assert_admin_page(response: Any, status: int = 200) -> None:
    assert response.status_code == status, response.text[:300]
    assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"
    sources = assert_no_inline_script(response.text)
    assert "/static/admin.js" in sources


async def pk_of(backoffice: Any, column: Any, *where: Any) -> int:
    async with backoffice.sessions() as session:
        pk = await session.scalar(sa.select(column).where(*where).order_by(column).limit(1))
    assert pk is not None
    return int(pk)


async def test_the_login_page(backoffice):
    client = backoffice.client
    client.cookies.clear()
    assert_admin_page(await client.get("/admin/login"))


async def test_dashboard_board_and_lists(backoffice):
    client = backoffice.as_role(Role.ADMIN)
    for path in (
        "/admin/",
        "/admin/fulfillment",
        "/admin/fulfillment?partial=1",
        "/admin/order/list",
        "/admin/order/list?status=paid&search=SMP&created_at=2020-01-01..2030-12-31",
        "/admin/service/list",
        "/admin/staff-user/list",
        "/admin/audit-log/list",
    ):
        response = await client.get(path)
        if path.endswith("partial=1"):  # the board's refresh: a fragment without the page's scripts
            assert response.status_code == 200
            assert response.headers["cache-control"] == "no-store"
            assert_no_inline_script(response.text)
            continue
        assert_admin_page(response)


async def test_details_create_and_edit_pages(backoffice):
    client = backoffice.as_role(Role.ADMIN)
    order = await pk_of(backoffice, Order.id)
    customer = await pk_of(backoffice, Customer.id)
    service = await pk_of(backoffice, Service.id)
    staff = await pk_of(backoffice, StaffUser.id)
    for path in (
        f"/admin/order/details/{order}",
        f"/admin/customer/details/{customer}",
        f"/admin/service/details/{service}",
        "/admin/service/create",
        "/admin/category/create",
        f"/admin/service/edit/{service}",
        f"/admin/staff-user/edit/{staff}",
    ):
        assert_admin_page(await client.get(path))


async def test_action_confirmation_pages(backoffice):
    client = backoffice.as_role(Role.ADMIN)
    order = await pk_of(backoffice, Order.id)
    staff = await pk_of(backoffice, StaffUser.id)
    for path in (
        f"/admin/order/action/cancel-order?pks={order}",
        f"/admin/order/action/add-note?pks={order}",
        f"/admin/staff-user/action/reset-password?pks={staff}",
    ):
        assert_admin_page(await client.get(path))


async def test_error_pages(backoffice):
    admin = backoffice.as_role(Role.ADMIN)
    assert_admin_page(await admin.get("/admin/order/details/999999999"), 404)
    finance = backoffice.as_role(Role.FINANCE)
    assert_admin_page(await finance.get("/admin/staff-user/list"), 403)


async def test_an_admin_500_shows_the_error_page_and_is_logged_once(backoffice, monkeypatch, caplog):
    async def broken(self: Any, request: Any) -> Any:
        raise RuntimeError("the dashboard broke")

    monkeypatch.setattr(DashboardView, "render", broken)
    caplog.set_level("INFO")
    client = backoffice.as_role(Role.ADMIN)

    response = await client.get("/admin/", headers={"X-Request-ID": "trace-admin-500x"})

    assert_admin_page(response, 500)
    assert "Please try again in a moment" in response.text
    assert "the dashboard broke" not in response.text
    errors = [record for record in caplog.records if record.levelname in ("ERROR", "CRITICAL")]
    assert len(errors) == 1, [record.getMessage() for record in errors]
    assert errors[0].msg["request_id"] == "trace-admin-500x"
    (access,) = log_lines(caplog, "request", request_id="trace-admin-500x")
    assert (access["path"], access["status"]) == ("/admin/", 500)


async def test_the_access_log_writes_admin_paths_as_sent(backoffice, caplog):
    caplog.set_level("INFO")
    client = backoffice.as_role(Role.STAFF)
    await client.get("/admin/order/list?status=paid")
    await client.get("/admin/fulfillment")
    paths = [line["path"] for line in log_lines(caplog, "request")]
    assert paths == ["/admin/order/list", "/admin/fulfillment"]


@pytest.mark.parametrize("path", ["/admin/statics/js/main.js", "/static/admin.js"])
async def test_admin_scripts_are_served_from_our_origin(backoffice, path):
    response = await backoffice.client.get(path)
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert_security_headers(response)
