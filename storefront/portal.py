"""The client portal ``/portal``: log in with an emailed link, then the client's orders, invoices and
subscriptions (the profile: ``storefront/portal_profile.py``).

Logged out, ``/portal`` asks for an email address and answers every address the same way (a mail goes only to a
customer's). The link's page only shows a button: mail scanners that open links must not use them up; its POST
logs in. Every page that names an order, a document or a subscription looks it up together with the session's
customer id, so another client's number is a 404 like a number that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from litestar import Controller, Request, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app import i18n
from app.actors import Actor
from app.catalog.models import ServiceKind
from app.company.models import CompanySettings
from app.company.services import CompanySettingsService
from app.config import get_settings
from app.customers.models import Customer
from app.db.engine import session_factory
from app.db.read_only import read_only_session
from app.errors import NotFound, ValidationFailed
from app.i18n import N_
from app.invoicing.services import invoices_of_order
from app.orders.models import OrderLine
from app.orders.tracking import tracking_facts, tracking_view
from app.payments.gateway import GatewayError, PaymentGateway
from app.portal import services as portal
from app.portal.commands import LoginLinkInvalid, end_portal_sessions, log_in_with_link, request_login_link
from app.uow import unit_of_work, utc_now
from app.web.security import PRIVATE_PAGE_REFERRER
from app.web.templating import render
from storefront.controllers import LANG_COOKIE_MAX_AGE
from storefront.order_form import form_errors
from storefront.portal_session import PortalSession, check_csrf, end_session, read_session, start_session
from storefront.same_origin import require_same_origin

log = structlog.get_logger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PORTAL_HEADERS = [
    ResponseHeader(name="Cache-Control", value="no-store"),
    ResponseHeader(name="X-Robots-Tag", value="noindex, nofollow"),
    ResponseHeader(name="Referrer-Policy", value=PRIVATE_PAGE_REFERRER),
]
NO_DOCUMENT = N_("There is no such document in your account.")
NO_ORDER = N_("There is no such order in your account.")


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


async def logged_in(
    request: Request[Any, Any, Any], engine: AsyncEngine
) -> tuple[PortalSession, Customer, CompanySettings | None] | None:
    """The session's customer (None: logged out, or the session was ended) and the seller for the footer."""
    session = read_session(request)
    if session is None:
        return None
    async with read_only_session(engine) as db:
        customer = await portal.portal_customer(db, session.customer_id, session.version)
        company = await CompanySettingsService(session=db).current()
    return (session, customer, company) if customer is not None else None


def to_login() -> Redirect:
    return Redirect(path="/portal", status_code=303)


def customer_actor(customer: Customer) -> Actor:
    """The client as the trail names them: by id, never by address (see docs/operations.md, "Personal data")."""
    return Actor.customer(customer.id)


def reorder_url(line: OrderLine) -> str | None:
    """The service page's order form filled with this line's link and quantity (None: cannot be ordered again)."""
    service = line.service
    if not service.is_active or service.kind in (ServiceKind.SUBSCRIPTION, ServiceKind.CUSTOM_COMMENTS):
        return None
    return f"/services/{service.slug}?" + urlencode({"link": line.link, "quantity": line.quantity})


class PortalController(Controller):
    path = "/portal"
    include_in_schema = False
    response_headers = PORTAL_HEADERS

    @get("/")
    async def home(self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Response[Any]:
        """Logged in: orders, documents, subscriptions. Logged out: the email form."""
        found = await logged_in(request, db_engine)
        if found is None:
            async with read_only_session(db_engine) as db:
                company = await CompanySettingsService(session=db).current()
            return render(request, "portal/login.html", company=company, email="", errors={})
        session, customer, company = found
        async with read_only_session(db_engine) as db:
            orders = await portal.customer_orders(db, customer.id)
            documents = await portal.customer_documents(db, customer.id)
            subscriptions = await portal.customer_subscriptions(db, customer.id)
        return render(
            request,
            "portal/home.html",
            company=company,
            customer=customer,
            orders=orders,
            documents=documents,
            subscriptions=subscriptions,
            csrf_token=session.csrf_token,
        )

    @post("/", guards=[require_same_origin])
    async def ask_for_link(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], data: FormData
    ) -> Response[Any]:
        """Mail a login link if the address is a customer's; the same page either way."""
        email = str(data.get("email") or "")[:254]
        async with read_only_session(db_engine) as db:
            company = await CompanySettingsService(session=db).current()
        try:
            async with unit_of_work(session_factory(db_engine), ip=client_ip(request)) as uow:
                outcome = await request_login_link(
                    uow, email=email, ip=client_ip(request), actor=Actor.customer(label="portal login form")
                )
        except ValidationFailed as exc:
            errors = form_errors(exc)
            return render(request, "portal/login.html", status_code=422, company=company, email=email, errors=errors)
        if outcome.throttled:
            errors = {"email": i18n.gettext(N_("Too many login links were asked for. Please wait 15 minutes."))}
            return render(request, "portal/login.html", status_code=429, company=company, email=email, errors=errors)
        return render(request, "portal/link_sent.html", company=company)

    @get("/login/{token:str}")
    async def confirm_login(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], token: FromPath[str]
    ) -> Response[Any]:
        """A button, not a login: opening the link (as mail scanners do) uses nothing up."""
        async with read_only_session(db_engine) as db:
            company = await CompanySettingsService(session=db).current()
        return render(request, "portal/confirm.html", company=company, token=token)

    @post("/login/{token:str}", guards=[require_same_origin])
    async def log_in(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], token: FromPath[str]
    ) -> Response[Any]:
        try:
            async with unit_of_work(session_factory(db_engine), ip=client_ip(request)) as uow:
                login = await log_in_with_link(uow, token=token, actor=Actor.customer(label="portal login link"))
        except LoginLinkInvalid as exc:
            async with read_only_session(db_engine) as db:
                company = await CompanySettingsService(session=db).current()
            errors = {"link": exc.translated(i18n.gettext)}
            return render(request, "portal/login.html", status_code=400, company=company, email="", errors=errors)
        response: Response[Any] = Redirect(path="/portal", status_code=303)
        start_session(response, login)
        # The portal speaks the client's language (their profile's) until they switch it.
        response.set_cookie("lang", login.locale, max_age=LANG_COOKIE_MAX_AGE, samesite="lax", httponly=True)
        return response

    @post("/logout", guards=[require_same_origin])
    async def log_out(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], data: FormData
    ) -> Response[Any]:
        """Ends the client's portal sessions on every device."""
        session = read_session(request)
        if session is not None:
            check_csrf(session, data)
            async with unit_of_work(session_factory(db_engine), ip=client_ip(request)) as uow:
                customer = await uow.session.get(Customer, session.customer_id)
                if customer is not None and customer.portal_session_version == session.version:
                    await end_portal_sessions(uow, customer_id=customer.id, actor=customer_actor(customer))
        response = to_login()
        end_session(response)
        return response

    @get("/orders/{number:str}")
    async def order(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], number: FromPath[str]
    ) -> Response[Any]:
        """One of the client's orders as the tracking page shows it, with its documents and "Order again"."""
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        session, customer, company = found
        locale = i18n.current_locale.get()
        async with read_only_session(db_engine) as db:
            order = await portal.customer_order(db, customer.id, number)
            if order is None:
                raise NotFound(NO_ORDER)
            view = tracking_view(order, await tracking_facts(db, order.id), locale, utc_now())
            documents = await invoices_of_order(db, order.id)
        reorder = {line.position: reorder_url(line) for line in order.lines}
        return render(
            request,
            "portal/order.html",
            company=company,
            customer=customer,
            order=order,
            view=view,
            documents=documents,
            reorder=reorder,
            csrf_token=session.csrf_token,
        )

    @get("/documents/{filename:str}")
    async def document(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], filename: FromPath[str]
    ) -> Response[Any]:
        """The PDF of one of the client's invoices or credit notes (``RE-2026-000001.pdf``)."""
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        _session, customer, _company = found
        number = filename.removesuffix(".pdf")
        if number == filename:
            raise NotFound(NO_DOCUMENT)
        # Writable: a document whose PDF job has not run yet is rendered and stored now (once, as the job would).
        async with unit_of_work(session_factory(db_engine), ip=client_ip(request)) as uow:
            pdf = await portal.customer_document_pdf(uow.session, customer.id, number)
        if pdf is None:
            raise NotFound(NO_DOCUMENT)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{number}.pdf"'},
        )

    @post("/subscriptions/{subscription_id:int}/manage", guards=[require_same_origin])
    async def manage_subscription(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        subscription_id: FromPath[int],
        data: FormData,
    ) -> Response[Any]:
        """The processor's customer portal (cancel, change the card), as the order page offers it."""
        found = await logged_in(request, db_engine)
        if found is None:
            return to_login()
        session, customer, company = found
        check_csrf(session, data)
        async with read_only_session(db_engine) as db:
            subscription = await portal.customer_subscription(db, customer.id, subscription_id)
        if subscription is None:
            raise NotFound(N_("There is no such subscription in your account."))
        gateway: PaymentGateway | None = request.app.state.get("payment_gateway")
        if gateway is None or subscription.stripe_subscription_id is None or not customer.stripe_customer_id:
            return to_login()
        return_url = get_settings().base_url.rstrip("/") + "/portal"
        try:
            url = await gateway.portal_url(customer_id=customer.stripe_customer_id, return_url=return_url)
        except GatewayError as exc:
            log.warning("portal not opened", subscription=subscription.id, error=str(exc))
            return render(request, "portal/unavailable.html", status_code=503, company=company)
        return Redirect(path=url, status_code=303)
