"""The tracking page's HTML, rendered once per change and kept per process (``storefront/page_cache.py``).

A page is the same for everybody who holds its link (the token is in the URL, the refill form is guarded by
its origin, not by a per-visitor token), so it is stored per (token, language, notice) with the stamp of its
order (``app/orders/tracking_stamp.py``: one statement) and the minute it was rendered in, for the estimates
and the refill window, which read the clock. Each request reads the stamp; only a changed stamp or a new
minute renders the page again (about ten statements and the templates). The store is bounded: the least
recently asked page goes first, and an unknown token never adds an entry.

A stored page is usually answered before routing (``storefront/cached_pages.py``, with :func:`stored_page`);
the handler (``storefront/tracking.py``, with :func:`tracking_page_html`) renders and stores the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.company.services import CompanySettingsService
from app.db.read_only import read_only_session
from app.instagram.metrics import line_chart
from app.instagram.profiles import profile_handle
from app.orders.placing import tracking_token_hash
from app.orders.services import OrderService
from app.orders.tracking import tracking_facts, tracking_view
from app.orders.tracking_stamp import Stamp, tracking_stamp
from app.payments import subscriptions
from app.uow import utc_now
from app.web.templating import render_html
from storefront.page_cache import CachedPage, PageStore

MAX_PAGES = 512
POLL_SECONDS = 15

TrackingPageKey = tuple[str, str, str]  # (token, language, notice)


@dataclass(frozen=True, slots=True)
class PageVersion:
    stamp: Stamp
    minute: int
    handles: tuple[str, ...]  # the Instagram profiles charted, whose snapshots the stamp covers


def tracking_pages() -> PageStore[TrackingPageKey]:
    return PageStore(max_pages=MAX_PAGES)


async def stored_page(
    store: PageStore[TrackingPageKey], engine: AsyncEngine, key: TrackingPageKey, lookup_token: str
) -> tuple[PageVersion | None, CachedPage | None]:
    """The version the page of ``key`` has now (None: an unknown token) and the stored page if it is that one."""
    now = utc_now()
    known = store.peek(key)
    handles: tuple[str, ...] = known.version.handles if known is not None else ()
    async with engine.connect() as connection:
        found = await tracking_stamp(connection, tracking_token_hash(lookup_token), handles)
    if found is None:
        return None, None
    version = PageVersion(found.stamp, int(now.timestamp()) // 60, handles)
    return version, store.get(key, version)


async def tracking_page_html(
    request: Request[Any, Any, Any],
    engine: AsyncEngine,
    *,
    token: str,
    lookup_token: str,
    locale: str,
    notice: str,
    notice_text: tuple[str, str] | None,
) -> bytes | None:
    """The page of the order behind ``token`` (looked up by ``lookup_token``), from the store when nothing it shows
    has changed; None for an unknown token."""
    store: PageStore[TrackingPageKey] = request.app.state.tracking_pages
    key = (token, locale, notice)
    version, page = await stored_page(store, engine, key, lookup_token)
    if version is None:
        return None
    if page is None:  # the stamp was read first: what is rendered now is at least as new as it
        async with read_only_session(engine) as session:
            rendered = await _render(request, session, lookup_token, token, locale, notice_text, utc_now())
        if rendered is None:
            return None
        html, charted = rendered
        page = store.put(key, replace(version, handles=charted), html.encode())
    return page.body


async def _render(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    lookup_token: str,
    token: str,
    locale: str,
    notice: tuple[str, str] | None,
    now: datetime,
) -> tuple[str, tuple[str, ...]] | None:
    """The page's HTML and the Instagram profiles it charts."""
    order = await OrderService(session=session).find_for_tracking_page(lookup_token)
    if order is None:
        return None
    view = tracking_view(order, await tracking_facts(session, order.id), locale, now)
    charts = {line.id: await line_chart(session, line) for line in order.lines}
    company = await CompanySettingsService(session=session).current()
    subscription = await subscriptions.subscription_of(session, order)
    html = render_html(
        request,
        "storefront/order.html",
        order=order,
        view=view,
        charts={line.position: charts[line.id] for line in order.lines if charts[line.id] is not None},
        token=token,
        company=company,
        subscription=subscription,
        poll_seconds=POLL_SECONDS,
        notice=notice,
    )
    handles = sorted({handle for line in order.lines if (handle := profile_handle(line.link)) is not None})
    return html, tuple(handles)
