"""Helpers for back-office tests over HTTP: staff users, logging in, CSRF tokens, forms, the Admin behind an app."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from typing import Any

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from admin.mount import SmplatAdmin
from app.accounts.models import Role, StaffUser
from app.actors import ActorKind
from app.audit.models import AuditLog
from app.orders.models import Order, OrderEvent, OrderLine
from app.orders.states import LineStatus
from tests import factories

BASE = "http://testserver.local"
ADMIN = f"{BASE}/admin"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')
NEEDED_ROLES = re.compile(r'data-testid="needed-roles">([^<]*)<')
ACTION_ERROR = re.compile(r'data-testid="action-error">([^<]*)<')
TOAST = re.compile(r'<div class="toast-body">([^<]*)<')
ORDER_NUMBER = re.compile(r"SMP-\d{4}-\d{6,}")


PEER_HEADER = b"x-test-peer"


class AsServerSeesIt:
    """Hands the app the scope an ASGI server (granian, uvicorn) would: ``raw_path`` without the query string.

    Litestar's test transport puts httpx's ``raw_path`` (path *and* query) into the scope; the admin mount
    rebuilds the path from ``raw_path``, so through the stock test client every admin URL with a query string
    is a 404 (pinned down by test_mount.py). A request may also name its peer address in ``X-Test-Peer``
    (the login throttle counts per IP).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = dict(scope)
            raw_path = scope.get("raw_path")
            if raw_path and b"?" in raw_path:
                scope["raw_path"] = raw_path.split(b"?", 1)[0]
            peer = dict(scope["headers"]).get(PEER_HEADER)
            if peer:
                scope["client"] = (peer.decode(), 50000)
        await self.app(scope, receive, send)


@asynccontextmanager
async def http_client(app: Litestar, *, raise_server_exceptions: bool = True) -> AsyncIterator[AsyncTestClient[Any]]:
    """A test client for the back office, asking for English pages (as staff users created here speak English)."""
    async with AsyncTestClient(
        app=AsServerSeesIt(app), base_url=BASE, raise_server_exceptions=raise_server_exceptions
    ) as client:
        client.headers["Accept-Language"] = "en"
        yield client


# -- page contents ---------------------------------------------------------------------------------------------


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html) or CSRF_INPUT.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _first(pattern: re.Pattern[str], html: str) -> str | None:
    match = pattern.search(html)
    return unescape(match.group(1)).strip() if match else None


def needed_roles(html: str) -> str | None:
    return _first(NEEDED_ROLES, html)


def action_error(html: str) -> str | None:
    return _first(ACTION_ERROR, html)


def toasts(html: str) -> list[str]:
    return [unescape(text).strip() for text in TOAST.findall(html)]


def order_numbers(html: str) -> set[str]:
    return set(ORDER_NUMBER.findall(html))


class _FormParser(HTMLParser):
    """The values a browser would submit for the first POST form of a page (submit buttons excluded).

    Text inputs and textareas as they stand; checked checkboxes and radios; for a select its selected options
    (a single select without one submits its first option, a multiple one nothing); for an ajax select
    (select2, ``data-json``) the records it shows as chosen.
    """

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str | list[str]] = {}
        self.in_form = False
        self.done = False
        self.select: str | None = None
        self.multiple = False
        self.options: list[str] = []
        self.selected: list[str] = []
        self.offered: dict[str, list[str]] = {}  # each select's options, as listed
        self.textarea: str | None = None
        self.textareas: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if self.done:
            return
        if tag == "form" and a.get("method", "").upper() == "POST":
            self.in_form = True
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value") or "y"
            else:
                self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self.select, self.multiple = name, "multiple" in a
            chosen = json.loads(a["data-json"]) if a.get("data-json") else []
            self.options, self.selected = [], [str(item["id"]) for item in chosen]
        elif tag == "option" and self.select:
            value = a.get("value", "")
            self.options.append(value)
            if "selected" in a:
                self.selected.append(value)
        elif tag == "textarea" and name:
            self.textarea = name
            self.textareas.append(name)
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select:
            self.offered[self.select] = self.options
            if self.multiple:
                if self.selected:
                    self.values[self.select] = self.selected
            elif self.selected or self.options:
                self.values[self.select] = self.selected[-1] if self.selected else self.options[0]
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] = str(self.values[self.textarea]) + data


def _parsed_form(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser


def offered_options(html: str) -> dict[str, list[str]]:
    """The options each select of the page's first POST form offers: name -> option values, in order."""
    return _parsed_form(html).offered


def form_values(html: str) -> dict[str, Any]:
    """What a browser submits for the page's first POST form: name -> value (a list for a multiple select)."""
    parser = _parsed_form(html)
    values = parser.values
    for name in parser.textareas:  # as a browser reads a textarea (first newline dropped) and submits it (CRLF)
        text = str(values[name]).replace("\r\n", "\n").replace("\r", "\n").removeprefix("\n")
        values[name] = text.replace("\n", "\r\n")
    return values


# -- staff and login -------------------------------------------------------------------------------------------


async def create_staff(session: AsyncSession, role: Role = Role.STAFF, **values: str) -> StaffUser:
    """A committed staff user (password ``factories.STAFF_PASSWORD``, English) that the app can see."""
    user = await factories.staff_user(session, role, **{"locale": "en", **values})
    await session.commit()
    return user


async def post_login(
    client: AsyncTestClient[Any], email: str, password: str = factories.STAFF_PASSWORD, *, peer: str | None = None
) -> Any:
    """Submit the login form as a browser would (token from the form's hidden field), optionally from ``peer``."""
    page = await client.get("/admin/login")
    assert page.status_code == 200
    return await client.post(
        "/admin/login",
        data={"username": email, "password": password, "csrf_token": csrf_from(page.text)},
        headers={PEER_HEADER.decode(): peer} if peer else None,
        follow_redirects=False,
    )


async def session_csrf(client: AsyncTestClient[Any]) -> str:
    """The CSRF token of the client's current admin session (every admin page carries it in a meta tag)."""
    page = await client.get("/admin/login")
    return csrf_from(page.text)


async def login(client: AsyncTestClient[Any], email: str, password: str = factories.STAFF_PASSWORD) -> str:
    """Log in and return the CSRF token to send with later POSTs."""
    response = await post_login(client, email, password)
    assert response.status_code == 302, f"login as {email} failed with {response.status_code}"
    return await session_csrf(client)


async def log_out(client: AsyncTestClient[Any]) -> Any:
    """Log out as the user menu does: a POST with the session's CSRF token."""
    return await client.post("/admin/logout", data={"csrf_token": await session_csrf(client)}, follow_redirects=False)


@dataclass(frozen=True)
class Staff:
    user: StaffUser
    csrf: str

    @property
    def email(self) -> str:
        return self.user.email


async def login_as(session: AsyncSession, client: AsyncTestClient[Any], role: Role) -> Staff:
    """A new staff user of ``role``, logged in on ``client``."""
    user = await create_staff(session, role)
    return Staff(user, await login(client, user.email))


# -- the app ---------------------------------------------------------------------------------------------------


def find_admin(app: Litestar) -> SmplatAdmin:
    """The SQLAdmin instance mounted at /admin in ``app`` (held by the mount handler's closure)."""
    for route in app.routes:
        handlers = getattr(route, "route_handlers", None) or [getattr(route, "route_handler", None)]
        for handler in filter(None, handlers):
            fn = getattr(handler.fn, "__wrapped__", handler.fn)
            outer = inspect.getclosurevars(fn).nonlocals.get("outer")
            for mount in getattr(outer, "routes", []):
                for inner in getattr(mount, "routes", []):
                    owner = getattr(getattr(inner, "endpoint", None), "__self__", None)
                    if isinstance(owner, SmplatAdmin):
                        return owner
    raise AssertionError("no SQLAdmin instance is mounted in the app")


# -- data ------------------------------------------------------------------------------------------------------


async def audit_rows(session: AsyncSession, **where: Any) -> list[AuditLog]:
    stmt = sa.select(AuditLog).filter_by(**where).order_by(AuditLog.id).execution_options(populate_existing=True)
    return list((await session.scalars(stmt)).all())


async def staff_audit_rows(session: AsyncSession) -> list[AuditLog]:
    """What staff did (test set-up writes its own rows as the system)."""
    return await audit_rows(session, actor_kind=ActorKind.STAFF)


async def order_events(session: AsyncSession, order_id: int) -> list[OrderEvent]:
    stmt = (
        sa.select(OrderEvent)
        .where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).unique().all())


async def reload_order(session: AsyncSession, order_id: int) -> Order:
    stmt = sa.select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    order = (await session.scalars(stmt)).unique().one()
    for line in order.lines:
        await session.refresh(line)
    return order


async def reload_line(session: AsyncSession, line_id: int) -> OrderLine:
    stmt = sa.select(OrderLine).where(OrderLine.id == line_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).unique().one()


async def order_with_line_at(
    session: AsyncSession, *path: LineStatus, provider_order_id: str | None = None, **service_values: Any
) -> tuple[Order, OrderLine]:
    """A paid order (its line queued), the line then moved along ``path`` by the order service; committed."""
    svc = await factories.service(session, **service_values)
    order = await factories.paid_order(session, items=[(svc, 1000, f"https://www.instagram.com/p/Line{svc.id}/")])
    line = await factories.move_line(session, order.lines[0].id, *path, provider_order_id=provider_order_id)
    await session.commit()
    return order, line
