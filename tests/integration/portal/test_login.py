"""Logging in to the portal by an emailed link: the mail (over real SMTP), the confirm button, single use, expiry,
one answer for known and unknown addresses, the limits per address and per IP, and logout."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.audit.models import AuditLog
from app.config import Settings, use_settings
from app.customers.models import Customer
from app.db.engine import session_factory
from app.notifications.delivery import deliver
from app.notifications.models import EmailStatus
from app.portal import commands as portal_commands
from app.portal.commands import (
    LINK_VALID_FOR,
    MAX_LINK_REQUESTS,
    LoginLinkInvalid,
    log_in_with_link,
    request_login_link,
)
from app.portal.models import PortalLoginToken
from app.uow import UnitOfWork, unit_of_work, utc_now
from storefront.portal_session import PORTAL_COOKIE
from tests import factories
from tests.conftest import TEST_SECRET
from tests.integration.portal.conftest import csrf_of, latest_link, link_mails, link_path, log_in

LOGGED_OUT = 'action="/portal"'  # the email form
SENT = 'data-testid="link-sent"'


async def test_the_link_arrives_by_mail_and_logs_the_client_in_only_after_the_confirm_button(
    client, session, engine, smtp_server
):
    await factories.company_settings(session)
    buyer = await factories.customer(session, email="lena@example.com", name="Lena Schmidt", locale="de")
    placed = await factories.place_order(session, buyer=buyer)
    await session.commit()

    asked = await client.post("/portal", data={"email": "  Lena@Example.com "})
    assert asked.status_code == 200 and SENT in asked.text
    (mail,) = await link_mails(session, "lena@example.com")
    assert await deliver(session_factory(engine), mail.id, smtp_server.mailer()) == EmailStatus.SENT
    (received,) = smtp_server.received
    assert received.recipients == ["lena@example.com"]
    assert received.message["Subject"] == "Ihr Anmeldelink für Ihr Kundenkonto"
    text = received.message.get_body(preferencelist=("plain",)).get_content()
    url = text.split("<", 1)[1].split(">", 1)[0]
    assert "/portal/login/" in url and url.endswith("?lang=de")
    token = link_path(url).split("/portal/login/", 1)[1].split("?", 1)[0]
    stored = await session.scalar(sa.select(PortalLoginToken.token_hash))
    assert token not in (stored or "") and len(token) >= 43  # only a digest of a 256-bit token is kept

    opened = await client.get(link_path(url))  # what a mail scanner does: nothing is used up
    assert opened.status_code == 200 and 'data-testid="confirm-login"' in opened.text
    assert LOGGED_OUT in (await client.get("/portal")).text

    confirmed = await client.post(link_path(url), follow_redirects=False)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/portal"
    cookie = confirmed.headers["set-cookie"]
    assert cookie.startswith(f"{PORTAL_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = await client.get("/portal")
    assert placed.order.number in home.text and "Ihre Bestellungen" in home.text
    assert home.headers["cache-control"] == "no-store"


async def test_a_login_link_logs_in_once(client, session):
    buyer = await factories.customer(session, locale="en")
    await session.commit()
    await client.post("/portal", data={"email": buyer.email})
    path = await latest_link(session, buyer.email)

    (mail,) = await link_mails(session, buyer.email)
    assert mail.locale == "en" and mail.subject == "Your login link for your customer account"
    first = await client.post(path, follow_redirects=False)
    client.cookies.clear()
    second = await client.post(path, follow_redirects=False)

    assert first.status_code == 303
    assert second.status_code == 400 and "already used" in second.text
    assert PORTAL_COOKIE not in second.headers.get("set-cookie", "")


async def test_a_login_link_expires_after_15_minutes(client, session):
    buyer = await factories.customer(session, locale="en")
    await session.commit()
    asked_at = utc_now() - LINK_VALID_FOR - timedelta(seconds=1)
    uow = UnitOfWork(session, clock=lambda: asked_at)
    await request_login_link(uow, email=buyer.email, ip="192.0.2.1", actor=Actor.customer(label="test"))
    await session.commit()

    answer = await client.post(await latest_link(session, buyer.email), follow_redirects=False)

    assert answer.status_code == 400 and "expired" in answer.text
    assert LOGGED_OUT in (await client.get("/portal")).text


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, session):
    buyer = await factories.customer(session, email="known@example.com")
    await session.commit()

    known = await client.post("/portal", data={"email": "known@example.com"})
    unknown = await client.post("/portal", data={"email": "nobody@example.com"})

    assert (known.status_code, unknown.status_code) == (200, 200)
    assert known.text == unknown.text
    assert len(await link_mails(session, buyer.email)) == 1
    assert await link_mails(session, "nobody@example.com") == []
    assert await session.scalar(sa.select(sa.func.count()).select_from(PortalLoginToken)) == 1


async def test_something_that_is_no_email_address_is_refused_in_the_form(client):
    answer = await client.post("/portal", data={"email": "not an address"})

    assert answer.status_code == 422 and 'aria-invalid="true"' in answer.text and "not an address" in answer.text


async def test_links_are_limited_per_address_from_any_ip_whether_or_not_it_is_a_customer(session):
    buyer = await factories.customer(session)
    await session.commit()

    for email in (buyer.email, "stranger@example.com"):
        outcomes = []
        for n in range(MAX_LINK_REQUESTS + 1):
            asked = await request_login_link(
                UnitOfWork(session), email=email, ip=f"192.0.2.{n}", actor=Actor.customer(label="test")
            )
            outcomes.append(asked.throttled)
        await session.commit()
        assert outcomes == [False] * MAX_LINK_REQUESTS + [True]

    assert len(await link_mails(session, buyer.email)) == MAX_LINK_REQUESTS


async def test_links_are_limited_per_client_ip_across_addresses(client, session):
    await session.commit()
    answers = [
        (await client.post("/portal", data={"email": f"visitor{n}@example.com"})).status_code
        for n in range(MAX_LINK_REQUESTS + 1)
    ]

    assert answers == [200] * MAX_LINK_REQUESTS + [429]


async def test_logging_out_ends_the_session_and_every_saved_copy_of_its_cookie(client, session):
    buyer = await factories.customer(session)
    await session.commit()
    await log_in(client, session, buyer.email)
    saved_cookie = client.cookies.get(PORTAL_COOKIE)
    home = await client.get("/portal")

    refused = await client.post("/portal/logout", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert LOGGED_OUT not in (await client.get("/portal")).text

    out = await client.post("/portal/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert LOGGED_OUT in (await client.get("/portal")).text
    client.cookies.set(PORTAL_COOKIE, saved_cookie)
    assert LOGGED_OUT in (await client.get("/portal")).text
    actions = list(await session.scalars(sa.select(AuditLog.action).where(AuditLog.entity_id == str(buyer.id))))
    assert "portal-login" in actions and "portal-logout" in actions


async def test_a_forged_session_cookie_is_not_a_login(client, session):
    buyer = await factories.customer(session)
    await factories.place_order(session, buyer=buyer)
    await session.commit()
    client.cookies.set(PORTAL_COOKIE, f'{{"c": {buyer.id}, "v": 0, "t": "x"}}')

    assert LOGGED_OUT in (await client.get("/portal")).text


async def test_an_erased_customer_gets_no_link_and_an_earlier_link_no_longer_logs_in(client, session):
    buyer = await factories.customer(session, locale="en")
    await session.commit()
    await client.post("/portal", data={"email": buyer.email})
    path = await latest_link(session, buyer.email)
    await session.execute(sa.update(Customer).where(Customer.id == buyer.id).values(erased_at=utc_now()))
    await session.commit()

    again = await client.post("/portal", data={"email": buyer.email})
    answer = await client.post(path, follow_redirects=False)

    assert again.status_code == 200 and SENT in again.text
    assert len(await link_mails(session, buyer.email)) == 1
    assert answer.status_code == 400 and LOGGED_OUT in answer.text


async def test_the_same_link_used_twice_at_once_logs_in_once(session, engine):
    buyer = await factories.customer(session)
    await session.commit()
    await request_login_link(UnitOfWork(session), email=buyer.email, ip="192.0.2.1", actor=Actor.customer(label="t"))
    await session.commit()
    token = (await latest_link(session, buyer.email)).split("/portal/login/", 1)[1].split("?", 1)[0]

    async def use() -> str:
        try:
            async with unit_of_work(session_factory(engine)) as uow:
                await log_in_with_link(uow, token=token, actor=Actor.customer(label="t"))
        except LoginLinkInvalid:
            return "refused"
        return "logged in"

    assert sorted(await asyncio.gather(use(), use())) == ["logged in", "refused"]


class LogRecorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, object]]] = []

    def info(self, event: str, **fields: object) -> None:
        self.lines.append((event, fields))


@pytest.mark.parametrize(("env", "logged"), [("dev", True), ("test", False)])
async def test_the_link_is_in_the_log_for_developers_only(session, monkeypatch, env, logged):
    buyer = await factories.customer(session)
    await session.commit()
    recorder = LogRecorder()
    monkeypatch.setattr(portal_commands, "log", recorder)
    previous = use_settings(Settings(env=env, secret_key=TEST_SECRET))
    try:
        await request_login_link(UnitOfWork(session), email=buyer.email, ip="192.0.2.1", actor=Actor.customer())
    finally:
        use_settings(previous)

    (mail,) = await link_mails(session, buyer.email)
    urls = [fields["url"] for event, fields in recorder.lines if event == "portal login link"]
    assert urls == ([mail.context["login_url"]] if logged else [])
