"""The client's refill button on the tracking page: ``POST /track/{token}/lines/{position}/refill``.

It calls the command staff use (``app.fulfillment.commands.request_refill``) as the order's customer, so the
window, the one-open-refill rule and the audit trail are the same. Whatever the outcome, the client is sent back
to the order page with a notice: a second click, or a click after the window closed, is a sentence there, not
an error page.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.actors import Actor
from app.db.engine import session_factory
from app.db.read_only import read_only_session
from app.errors import Conflict, DomainError
from app.fulfillment import commands as fulfillment
from app.orders.services import OrderService
from app.uow import unit_of_work
from storefront.same_origin import require_same_origin
from storefront.tracking import MAX_TOKEN, TrackingController


class RefillController(Controller):
    include_in_schema = False

    @post("/track/{token:str}/lines/{position:int}/refill", status_code=303, guards=[require_same_origin])
    async def request_refill(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        token: FromPath[str],
        position: FromPath[int],
    ) -> Response[Any]:
        async with read_only_session(db_engine) as session:
            order = await OrderService(session=session).find_by_tracking_token(token[:MAX_TOKEN])
        line = next((line for line in order.lines if line.position == position), None) if order else None
        if order is None or line is None:
            return TrackingController.missing(request, as_json=False)
        actor = Actor.customer(order.customer_id, order.customer.email)
        ip = request.client.host if request.client else None
        try:
            async with unit_of_work(session_factory(db_engine), ip=ip) as uow:
                await fulfillment.request_refill(uow, line_ids=[line.id], actor=actor)
            notice = "refill-requested"
        except Conflict:
            notice = "refill-open"
        except DomainError:
            notice = "refill-unavailable"
        return Redirect(path=f"/track/{token}?notice={notice}#line-{position}", status_code=303)
