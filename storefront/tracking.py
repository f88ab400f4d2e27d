"""The client's tracking page ``/track/{token}``: the order's progress in plain words, as a page or as JSON.

The URL is the secret (only its hash is stored): responses are never indexed, never sent on as a referrer and
never cached. A miss costs what a hit's lookup costs (hash + one query) and always answers the same 404, so a
guessed token tells nothing. The page's script (app/static/tracking.js) asks for the JSON view while work is
in progress and updates the bars and status texts; without it the page is complete as served.

Repeat polls are answered ``304 Not Modified`` when nothing the view shows has changed: the ETag is made of the
order's version (bumped with every event: status changes, payments, refunds), the lines' counts (progress
reports change them without an event) and the language. The JSON view may therefore be kept in the browser's
own cache (``private, no-cache``: always revalidated, never in a shared cache); pages are never stored. What
changes without an event keeps its last answer until the next change: an estimate's wording as time passes, a
document's link once its PDF is rendered (the page itself always shows both as they are).

The page itself is rendered once per change and kept in this process (``storefront/tracking_pages.py``): each
request reads one statement, the order's stamp, and answers the stored HTML while nothing the page shows has
changed and the minute is the same.

The order's invoices and credit notes are downloaded at ``/track/{token}/documents/{number}.pdf``: a document of
another order answers the same 404 as an unknown token, so numbers cannot be probed with a valid link.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncEngine

from app import i18n
from app.db.read_only import read_only_session
from app.i18n import N_
from app.orders.models import Order
from app.orders.schemas import tracked_order
from app.orders.services import OrderService
from app.orders.tracking import tracking_facts, tracking_view
from app.orders.tracking_documents import document_pdf
from app.uow import utc_now
from app.web.errors import PROBLEM_JSON
from app.web.security import PRIVATE_PAGE_REFERRER
from app.web.templating import render
from storefront.tracking_pages import tracking_page_html

MAX_TOKEN = 200
MAX_NUMBER = 20  # invoice.number's length  # longer input is cut before hashing: the work per request stays bounded
JSON = "application/json"
PRIVATE_HEADERS = {
    "Referrer-Policy": PRIVATE_PAGE_REFERRER,
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
    "Vary": "Accept",
}
JSON_HEADERS = {**PRIVATE_HEADERS, "Cache-Control": "private, no-cache"}
# What the page says after the client's refill button (storefront/refills.py): (text, notice class).
NOTICES = {
    "refill-requested": (N_("Thank you — your refill is requested. This page shows how it goes."), "notice-success"),
    "refill-open": (N_("A refill for this line is already under way; there is no need to ask again."), ""),
    "refill-unavailable": (
        N_("A refill is not available for this line: its refill window has ended or the service has none."),
        "",
    ),
}
NOT_FOUND = N_("This order link is not valid. Please use the link from your email.")


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.accept.best_match(["text/html", JSON], default="text/html") == JSON


def view_etag(order: Order, locale: str) -> str:
    """A weak validator of everything the JSON view shows (see the module docstring)."""
    counts = ";".join(f"{line.id}:{line.remains}:{line.start_count}" for line in order.lines)
    digest = hashlib.sha256(f"{order.version}|{locale}|{counts}".encode()).hexdigest()[:20]
    return f'W/"{digest}"'


class TrackingController(Controller):
    include_in_schema = False

    @get("/track/{token:str}")
    async def track(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        token: FromPath[str],
        notice: Annotated[str, QueryParameter(max_length=40)] = "",
    ) -> Response[Any]:
        """The order's page (or its JSON view for ``Accept: application/json``); ``notice``: a refill's outcome."""
        locale = i18n.current_locale.get()
        if wants_json(request):
            async with read_only_session(db_engine) as session:
                order = await OrderService(session=session).find_for_tracking_page(token[:MAX_TOKEN])
                if order is None:
                    return self.missing(request, as_json=True)
                etag = view_etag(order, locale)
                headers = {**JSON_HEADERS, "ETag": etag}
                if etag in request.headers.get("if-none-match", ""):
                    return Response(None, status_code=304, headers=headers)
                view = tracking_view(order, await tracking_facts(session, order.id), locale, utc_now())
                body = tracked_order(view, i18n.gettext, documents_url=f"/track/{token}/documents/")
                return Response(body, media_type=JSON, headers=headers)
        shown = notice if notice in NOTICES else ""
        page = await tracking_page_html(
            request,
            db_engine,
            token=token,
            lookup_token=token[:MAX_TOKEN],
            locale=locale,
            notice=shown,
            notice_text=NOTICES.get(shown),
        )
        if page is None:
            return self.missing(request, as_json=False)
        return Response(page, media_type=MediaType.HTML, headers=PRIVATE_HEADERS)

    @get("/track/{token:str}/documents/{filename:str}")
    async def document(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        token: FromPath[str],
        filename: FromPath[str],
    ) -> Response[Any]:
        """The stored PDF of one of the order's invoices or credit notes, as a download."""
        number = filename.removesuffix(".pdf")
        async with read_only_session(db_engine) as session:
            order = await OrderService(session=session).find_by_tracking_token(token[:MAX_TOKEN])
            found = None
            if order is not None and filename.endswith(".pdf") and len(number) <= MAX_NUMBER:
                found = await document_pdf(session, order.id, number)
        if found is None:
            return self.missing(request, as_json=False)
        number, pdf = found
        headers = {**PRIVATE_HEADERS, "Content-Disposition": f'attachment; filename="{number}.pdf"'}
        return Response(pdf, media_type="application/pdf", headers=headers)

    @staticmethod
    def missing(request: Request[Any, Any, Any], *, as_json: bool) -> Response[Any]:
        title, detail = i18n.gettext(N_("Order not found")), i18n.gettext(NOT_FOUND)
        if as_json:
            body = {"type": "about:blank", "title": title, "status": 404, "detail": detail}
            return Response(body, status_code=404, media_type=PROBLEM_JSON, headers=PRIVATE_HEADERS)
        page = render(request, "storefront/order_missing.html", status_code=404, title=title, message=detail)
        page.headers.update(PRIVATE_HEADERS)
        return page
