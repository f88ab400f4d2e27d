"""A checkout link's public page: what staff prepared for the client, the price the VAT engine decides, a pay button.

``GET /pay/{token}`` shows the lines in the client's language (their explicit choice, else the language stored
for them) with net, VAT and total. ``POST /pay/{token}`` places the link's order (one unit of work, under a
lock on the link; idempotent per visit) and sends the browser to a fresh checkout session. The URL is the secret:
it is never sent as a referrer to another site nor indexed. An unknown or tampered token is a 404 page, an
expired, used-up or withdrawn link a 410 page: both say what to do next.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import sqlalchemy as sa
import structlog
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app import i18n
from app.actors import Actor
from app.catalog.models import Service
from app.company.services import CompanySettingsService
from app.customers.models import Customer
from app.db.engine import session_factory
from app.db.read_only import read_only_session
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.orders.checkout import CheckoutInput, quote
from app.orders.states import OrderStatus
from app.payments.gateway import GatewayError
from app.payments.links import LinkUnavailable, UnknownLink, open_link, place_link_order
from app.payments.models import LinkStatus
from app.uow import unit_of_work, utc_now
from app.web.security import PRIVATE_PAGE_REFERRER
from app.web.templating import render
from storefront.checkout import ORDER_COOKIE, ORDER_COOKIE_MAX_AGE, open_checkout
from storefront.pages import seller
from storefront.same_origin import require_same_origin

log = structlog.get_logger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PRIVATE_HEADERS = {"Referrer-Policy": PRIVATE_PAGE_REFERRER, "X-Robots-Tag": "noindex", "Cache-Control": "no-store"}
OFFER_GONE = N_("This offer can no longer be paid as it stands. Please ask us for a new payment link.")


def _private(response: Response[Any]) -> Response[Any]:
    response.headers.update(PRIVATE_HEADERS)
    return response


def _ip(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def client_language(request: Request[Any, Any, Any], known: str) -> str:
    """The visitor's explicit choice (``?lang=``, the switch's cookie), else the language we know the client by."""
    locale = i18n.negotiate_locale(request.query_params.get("lang"), request.cookies.get("lang"), known)
    i18n.current_locale.set(locale)
    return locale


async def _refusal(
    request: Request[Any, Any, Any], db_engine: AsyncEngine, text: str, status_code: int
) -> Response[Any]:
    page = render(
        request,
        "storefront/link_unavailable.html",
        status_code=status_code,
        message=i18n.gettext(text),
        company=await seller(db_engine),
    )
    return _private(page)


class CheckoutLinkController(Controller):
    include_in_schema = False

    @get("/pay/{token:str}")
    async def show(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], token: FromPath[str]
    ) -> Response[Any]:
        async with read_only_session(db_engine) as session:
            try:
                view = await open_link(session, token, now=utc_now())
            except NotFound as exc:
                return await _refusal(request, db_engine, exc.message, 404)
            locale = client_language(request, view.customer.locale)
            if not view.payable:
                status = LinkStatus.USED_UP if view.status == LinkStatus.ACTIVE else view.status
                return await _refusal(request, db_engine, LinkUnavailable(status).message, 410)
            customer = view.customer
            checkout = CheckoutInput(
                email=customer.email,
                items=view.lines,
                country=customer.country,
                company=customer.company,
                vat_id=customer.vat_id,
                locale=locale,
            )
            try:
                priced = await quote(session, checkout, on=utc_now().date())
            except (ValidationFailed, NotFound) as exc:
                log.warning("checkout link no longer priceable", link=view.link.id, error=str(exc))
                return await _refusal(request, db_engine, OFFER_GONE, 410)
            ids = [line.service_id for line in view.lines]
            services = {
                s.id: s for s in (await session.scalars(sa.select(Service).where(Service.id.in_(ids)))).unique()
            }
            company = await CompanySettingsService(session=session).current()
        lines = [
            {"service": services[line.service_id], "quantity": line.quantity, "link": link, "runs": line.runs}
            for line, link in zip(view.lines, priced.links, strict=True)
        ]
        page = render(
            request,
            "storefront/pay.html",
            token=token,
            lines=lines,
            quote=priced,
            currency=view.link.currency,
            expires_at=view.link.expires_at,
            visit_key=secrets.token_urlsafe(16),
            company=company,
        )
        return _private(page)

    @post("/pay/{token:str}", status_code=303, guards=[require_same_origin])
    async def pay(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        token: FromPath[str],
        data: FormData,
    ) -> Response[Any]:
        """Place the link's order (once per visit) and open a fresh checkout session for it."""
        visit_key = (data.get("visit") or "").strip()[:100] or secrets.token_urlsafe(16)
        actor = Actor.customer(label="checkout link")
        try:
            async with unit_of_work(session_factory(db_engine), ip=_ip(request)) as uow:
                placed = await place_link_order(uow, token=token, visit_key=visit_key, actor=actor)
                order = placed.order
                customer = await uow.session.get_one(Customer, order.customer_id)
                payer = Actor.customer(customer.id, customer.email)
                known_language = customer.locale
        except UnknownLink as exc:
            return await _refusal(request, db_engine, exc.message, 404)
        except LinkUnavailable as exc:
            return await _refusal(request, db_engine, exc.message, 410)
        except (ValidationFailed, NotFound) as exc:  # a service withdrawn or changed since the link was made
            log.warning("checkout link order refused", error=str(exc))
            return await _refusal(request, db_engine, OFFER_GONE, 410)
        if order.status != OrderStatus.PENDING_PAYMENT:  # the same visit sent again after paying
            return _private(Redirect(path="/checkout/done"))
        locale = client_language(request, known_language)
        response: Response[Any]
        try:
            url = await open_checkout(request, db_engine, order.id, locale=locale, actor=payer)
            response = Redirect(path=url, status_code=303)
        except GatewayError as exc:
            log.warning("checkout not opened", order=order.number, error=str(exc))
            response = render(
                request,
                "storefront/payment_unavailable.html",
                status_code=503,
                order=order,
                company=await seller(db_engine),
            )
        if placed.tracking_token:
            response.set_cookie(
                ORDER_COOKIE,
                placed.tracking_token,
                max_age=ORDER_COOKIE_MAX_AGE,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        return _private(response)
