"""Portal commands: ask for a login link, log in with it, log out everywhere.

Asking for a link answers the same whether or not the email belongs to a customer (the face shows one page
for both); only a customer's address gets a mail. Links and sessions both end by rows in PostgreSQL: a link's
``used_at``, and the customer's ``portal_session_version``, which every portal session cookie carries.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.actors import Actor
from app.config import get_settings
from app.customers.models import Customer
from app.errors import DomainError, NotFound, ValidationFailed
from app.i18n import N_
from app.notifications.messages import send_portal_link
from app.portal.models import PortalLinkRequests, PortalLoginToken
from app.uow import UnitOfWork
from app.validation import normalise_email

log = structlog.get_logger(__name__)

LINK_VALID_FOR = timedelta(minutes=15)
MAX_LINK_REQUESTS = 5  # per email and per client IP within REQUEST_WINDOW
REQUEST_WINDOW = timedelta(minutes=15)
KEEP_USED_LINKS = timedelta(days=1)
MAX_TOKEN = 200  # longer input is cut before hashing: the work per request stays bounded
INVALID_LINK = N_("This login link has expired or was already used. Please ask for a new one.")


class LoginLinkInvalid(DomainError):
    """Unknown, used or expired: one answer for all three."""

    code = "login_link_invalid"
    title = N_("Login link not valid")


@dataclass(frozen=True)
class LinkRequest:
    throttled: bool  # over the limit: nothing was sent


@dataclass(frozen=True)
class PortalLogin:
    customer_id: int
    session_version: int
    locale: str


def login_token_hash(token: str) -> str:
    return hashlib.sha256(token[:MAX_TOKEN].encode()).hexdigest()


def _email_key(email: str) -> str:
    return "email:" + hashlib.sha256(email.encode()).hexdigest()


async def _count_request(uow: UnitOfWork, key: str) -> int:
    """This request counted under ``key`` (one atomic upsert); returns the count in the current window."""
    table = PortalLinkRequests.__table__
    now = uow.now()
    window_over = table.c.window_started_at <= now - REQUEST_WINDOW
    stmt = (
        pg_insert(PortalLinkRequests)
        .values(key=key[:80], requests=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "requests": sa.case((window_over, 1), else_=table.c.requests + 1),
                "window_started_at": sa.case((window_over, now), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.requests)
    )
    return int((await uow.session.execute(stmt)).scalar_one())


async def request_login_link(uow: UnitOfWork, *, email: str, ip: str, actor: Actor) -> LinkRequest:
    """Count the request per email and per IP; within the limits, mail a fresh link if ``email`` is a customer's.

    Raises ValidationFailed only for what cannot be an email address at all.
    """
    try:
        address = normalise_email(email[:254])
    except ValueError:
        raise ValidationFailed({"email": N_("is not a valid email address")}) from None
    counts = [await _count_request(uow, _email_key(address)), await _count_request(uow, f"ip:{ip[:45]}")]
    await uow.session.execute(
        sa.delete(PortalLinkRequests).where(PortalLinkRequests.window_started_at < uow.now() - REQUEST_WINDOW)
    )
    if max(counts) > MAX_LINK_REQUESTS:
        return LinkRequest(throttled=True)
    # Locked before its links, as logging in locks them: the two queue instead of deadlocking.
    customer = await uow.session.scalar(
        sa.select(Customer).where(Customer.email == address, Customer.erased_at.is_(None)).with_for_update()
    )
    if customer is None:
        return LinkRequest(throttled=False)
    now = uow.now()
    await uow.session.execute(
        sa.delete(PortalLoginToken).where(
            PortalLoginToken.customer_id == customer.id, PortalLoginToken.expires_at < now - KEEP_USED_LINKS
        )
    )
    token = secrets.token_urlsafe(32)  # 256 bits
    uow.session.add(
        PortalLoginToken(
            token_hash=login_token_hash(token), customer_id=customer.id, expires_at=now + LINK_VALID_FOR, ip=ip[:45]
        )
    )
    url = await send_portal_link(uow, customer, token, minutes=int(LINK_VALID_FOR.total_seconds() // 60))
    uow.audit(actor, "portal-link-sent", "customer", customer.id)
    if get_settings().env == "dev":
        log.info("portal login link", customer=customer.id, url=url)
    return LinkRequest(throttled=False)


async def log_in_with_link(uow: UnitOfWork, *, token: str, actor: Actor) -> PortalLogin:
    """Use up the link (and the customer's other open links); raises LoginLinkInvalid if it cannot log in."""
    now = uow.now()
    digest = login_token_hash(token)
    customer_id = await uow.session.scalar(
        sa.select(PortalLoginToken.customer_id).where(PortalLoginToken.token_hash == digest)
    )
    if customer_id is None:
        raise LoginLinkInvalid(INVALID_LINK)
    # The customer first, then the link: two links of one client used at once queue on the customer.
    customer = await uow.session.scalar(sa.select(Customer).where(Customer.id == customer_id).with_for_update())
    link = await uow.session.scalar(
        sa.select(PortalLoginToken)
        .where(PortalLoginToken.token_hash == digest)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if customer is None or customer.erased_at is not None or link is None:
        raise LoginLinkInvalid(INVALID_LINK)
    if link.used_at is not None or link.expires_at <= now:
        raise LoginLinkInvalid(INVALID_LINK)
    await uow.session.execute(
        sa.update(PortalLoginToken)
        .where(PortalLoginToken.customer_id == customer.id, PortalLoginToken.used_at.is_(None))
        .values(used_at=now)
    )
    uow.audit(actor, "portal-login", "customer", customer.id)
    return PortalLogin(customer_id=customer.id, session_version=customer.portal_session_version, locale=customer.locale)


async def end_portal_sessions(uow: UnitOfWork, *, customer_id: int, actor: Actor) -> None:
    """Log the customer out of the portal on every device (logout; erasure calls it too)."""
    customer = await uow.session.scalar(sa.select(Customer).where(Customer.id == customer_id).with_for_update())
    if customer is None:
        raise NotFound(N_("This record no longer exists."))
    before = {"portal_session_version": customer.portal_session_version}
    customer.portal_session_version += 1
    await uow.flush()
    after = {"portal_session_version": customer.portal_session_version}
    uow.audit(actor, "portal-logout", "customer", customer_id, before=before, after=after)
