"""The client's data in the portal (``/portal/privacy``): download all of it, and ask to be erased.

"Download my data" records an export (``app.gdpr.exports.request_export``) that a job builds; the mail and this
page link the ZIP at ``/portal/exports/<id>``, which serves it only to its owner, logged in, within its week
(anything else is a 404). "Request erasure" asks on a confirmation page; an admin decides (``app.gdpr.erasure``).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.customers.models import Customer
from app.db.engine import session_factory
from app.db.read_only import read_only_session
from app.errors import NotFound
from app.gdpr import services as gdpr
from app.gdpr.erasure import request_erasure
from app.gdpr.exports import ExportPending, export_path, request_export
from app.i18n import N_
from app.uow import unit_of_work, utc_now
from app.web.templating import render
from storefront.portal import PORTAL_HEADERS, FormData, client_ip, customer_actor, logged_in, to_login
from storefront.portal_session import check_csrf
from storefront.same_origin import require_same_origin

NO_EXPORT = N_("There is no such download in your account, or it has expired.")
PRIVACY = "/portal/privacy"


async def form_sender(request: Request[Any, Any, Any], engine: AsyncEngine, data: dict[str, str]) -> Customer | None:
    """The logged-in customer who sent a portal form with this session's CSRF token (None: logged out)."""
    found = await logged_in(request, engine)
    if found is None:
        return None
    session, customer, _company = found
    check_csrf(session, data)
    return customer


class PortalPrivacyController(Controller):
    path = "/portal"
    include_in_schema = False
    response_headers = PORTAL_HEADERS

    @get("/privacy")
    async def privacy(self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Response[Any]:
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        session, customer, company = found
        async with read_only_session(db_engine) as db:
            export = await gdpr.latest_export(db, customer.id)
            erasure = await gdpr.open_erasure_request(db, customer.id)
        return render(
            request,
            "portal/privacy.html",
            company=company,
            export=export,
            erasure=erasure,
            notice=request.query_params.get("done", ""),
            now=utc_now(),
            csrf_token=session.csrf_token,
        )

    @post("/privacy/export", guards=[require_same_origin])
    async def ask_for_export(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], data: FormData
    ) -> Response[Any]:
        customer = await form_sender(request, db_engine, data)
        if customer is None:
            return to_login()
        try:
            async with unit_of_work(session_factory(db_engine), ip=client_ip(request)) as uow:
                await request_export(uow, customer_id=customer.id, actor=customer_actor(customer))
        except ExportPending:
            return Redirect(path=f"{PRIVACY}?done=export-pending", status_code=303)
        return Redirect(path=f"{PRIVACY}?done=export-requested", status_code=303)

    @get("/exports/{export_id:int}")
    async def download(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], export_id: FromPath[int]
    ) -> Response[Any]:
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        _session, customer, _company = found
        async with read_only_session(db_engine) as db:
            export = await gdpr.downloadable_export(db, customer.id, export_id, utc_now())
        path = export_path(export) if export is not None else None
        if export is None or path is None or not path.is_file():
            raise NotFound(NO_EXPORT)
        name = f"my-data-{export.ready_at:%Y-%m-%d}.zip" if export.ready_at else "my-data.zip"
        return Response(
            path.read_bytes(),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get("/privacy/erasure")
    async def confirm_erasure_page(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]
    ) -> Response[Any]:
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        session, _customer, company = found
        return render(request, "portal/erasure.html", company=company, csrf_token=session.csrf_token)

    @post("/privacy/erasure", guards=[require_same_origin])
    async def ask_for_erasure(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], data: FormData
    ) -> Response[Any]:
        customer = await form_sender(request, db_engine, data)
        if customer is None:
            return to_login()
        async with unit_of_work(session_factory(db_engine), ip=client_ip(request)) as uow:
            await request_erasure(uow, customer_id=customer.id, actor=customer_actor(customer))
        return Redirect(path=f"{PRIVACY}?done=erasure-requested", status_code=303)
