"""The renewal notice's unsubscribe link: ``/mail/unsubscribe/{token}``.

``GET`` shows a confirm button and changes nothing (mail scanners open links); ``POST`` unsubscribes — from the
button, or straight from the mail client (RFC 8058 one-click: ``List-Unsubscribe=One-Click`` in the body, sent by
the mail provider's server, so no same-origin check: the signed token is the authority). Both speak the customer's
language. A malformed or forged token is a 400 page that says so; nothing is changed.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app import i18n
from app.actors import Actor
from app.customers.commands import INVALID_UNSUBSCRIBE_LINK, UnsubscribeLinkInvalid, unsubscribe_renewal_notices
from app.customers.models import Customer
from app.db.engine import session_factory
from app.db.read_only import read_only_session
from app.notifications.unsubscribe import UNSUBSCRIBE_PATH, customer_of_token
from app.uow import unit_of_work
from app.web.templating import render
from storefront.links import PRIVATE_HEADERS, client_language
from storefront.pages import seller

MAX_TOKEN = 100
TEMPLATE = "storefront/unsubscribe.html"


class UnsubscribeController(Controller):
    path = UNSUBSCRIBE_PATH
    include_in_schema = False
    response_headers = PRIVATE_HEADERS

    @get("/{token:str}")
    async def confirm(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], token: FromPath[str]
    ) -> Response[Any]:
        customer_id = customer_of_token(token[:MAX_TOKEN])
        async with read_only_session(db_engine) as session:
            customer = None if customer_id is None else await session.get(Customer, customer_id)
        company = await seller(db_engine)
        if customer is None:
            error = i18n.gettext(INVALID_UNSUBSCRIBE_LINK)
            return render(request, TEMPLATE, status_code=400, company=company, error=error)
        client_language(request, customer.locale)
        return render(request, TEMPLATE, company=company, token=token, done=False, error=None)

    @post("/{token:str}", status_code=200)
    async def unsubscribe(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], token: FromPath[str]
    ) -> Response[Any]:
        ip = request.client.host if request.client else None
        try:
            async with unit_of_work(session_factory(db_engine), ip=ip) as uow:
                customer = await unsubscribe_renewal_notices(
                    uow, token=token[:MAX_TOKEN], actor=Actor.customer(label="renewal notice unsubscribe link")
                )
        except UnsubscribeLinkInvalid as exc:
            error = exc.translated(i18n.gettext)
            return render(request, TEMPLATE, status_code=400, company=await seller(db_engine), error=error)
        client_language(request, customer.locale)
        return render(request, TEMPLATE, company=await seller(db_engine), token=token, done=True, error=None)
