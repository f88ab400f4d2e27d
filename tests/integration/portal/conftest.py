"""Portal tests: logging a client in through the real link flow, and the SMTP server that receives the links."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.models import EmailOutbox
from storefront.portal_session import PORTAL_COOKIE
from tests.integration.notifications.conftest import smtp_server

__all__ = ["smtp_server"]

Client = AsyncTestClient[Litestar]


async def link_mails(session: AsyncSession, to: str) -> list[EmailOutbox]:
    rows = await session.scalars(
        sa.select(EmailOutbox)
        .where(EmailOutbox.template == "portal_link", EmailOutbox.to_address == to)
        .order_by(EmailOutbox.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def link_path(url: str) -> str:
    """The path and query of a login link (the mail's link is absolute, on the configured base URL)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def latest_link(session: AsyncSession, to: str) -> str:
    mails = await link_mails(session, to)
    assert mails, f"no login link was mailed to {to}"
    return link_path(mails[-1].context["login_url"])


async def log_in(client: Client, session: AsyncSession, email: str) -> None:
    """Ask for a link as the client does, then follow it and confirm: the client holds a portal session."""
    asked = await client.post("/portal", data={"email": email})
    assert asked.status_code == 200
    confirmed = await client.post(await latest_link(session, email), follow_redirects=False)
    assert confirmed.status_code == 303
    assert client.cookies.get(PORTAL_COOKIE)


def csrf_of(page: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]
