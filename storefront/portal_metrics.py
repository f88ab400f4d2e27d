"""The portal's "Metrics" page: the logged-in client's Instagram profiles with their growth and charts
(``app/instagram/metrics.py``). Only the session's customer's profiles; with snapshots off there is no page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.read_only import read_only_session
from app.instagram.metrics import customer_profile_metrics
from app.instagram.profiles import snapshots_enabled
from app.uow import utc_now
from app.web.templating import render
from storefront.portal import PORTAL_HEADERS, logged_in, to_login


class PortalMetricsController(Controller):
    path = "/portal/metrics"
    include_in_schema = False
    response_headers = PORTAL_HEADERS

    @get("/")
    async def metrics(self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Response[Any]:
        if not snapshots_enabled():
            raise NotFoundException  # as for any address that does not exist
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        session, customer, company = found
        async with read_only_session(db_engine) as db:
            profiles = await customer_profile_metrics(db, customer.id, utc_now())
        return render(
            request,
            "portal/metrics.html",
            company=company,
            customer=customer,
            profiles=profiles,
            csrf_token=session.csrf_token,
        )
