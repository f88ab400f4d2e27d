"""Buying: the order form's POST, the way to the processor's checkout and back, and the client's order page.

``POST /checkout`` places the order (one unit of work, committed), opens a checkout session at the processor
(idempotency key per order and attempt), records it as a pending payment (a second unit of work) and sends the
browser there. The success page asks the processor how the checkout ended and applies it with the same command
the webhook uses, so whichever arrives first pays the order and the other finds it paid.

The browser that placed an order keeps its tracking token in an HttpOnly cookie, so it can come back to its
order page from the processor's pages; anyone else needs the tracking link.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import structlog
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncEngine

from app import i18n
from app.actors import Actor
from app.analytics import funnel
from app.catalog import services as catalog
from app.catalog.models import ServiceKind
from app.company.services import CompanySettingsService
from app.config import get_settings
from app.db.engine import session_factory
from app.db.read_only import read_only_session
from app.errors import DomainError, NotFound, ValidationFailed
from app.i18n import N_
from app.orders.checkout import place_checkout_order, quote
from app.orders.models import Order, OrderSource
from app.orders.placing import tracking_token_hash
from app.orders.services import OrderService
from app.orders.states import OrderStatus
from app.payments import commands as payments
from app.payments import subscribing, subscriptions
from app.payments.gateway import CheckoutItem, CheckoutRequest, GatewayError, PaymentGateway
from app.payments.models import PaymentMethod
from app.payments.services import checkout_attempts
from app.uow import unit_of_work, utc_now
from app.web.security import PRIVATE_PAGE_REFERRER
from app.web.templating import render
from storefront.order_form import OrderForm, form_errors, read_checkout, read_posts
from storefront.pages import seller, service_page
from storefront.same_origin import require_same_origin

log = structlog.get_logger(__name__)

ORDER_COOKIE = "smplat_order"
ORDER_COOKIE_MAX_AGE = 14 * 24 * 3600
TRACKING_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")  # secrets.token_urlsafe(32): 43 characters
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _gateway(request: Request[Any, Any, Any]) -> PaymentGateway:
    gateway: PaymentGateway | None = request.app.state.get("payment_gateway")
    if gateway is None:
        raise DomainError(N_("Online payment is not available at the moment. Please contact us."))
    return gateway


def checkout_items(order: Order, locale: str) -> list[CheckoutItem]:
    """What the processor shows and charges: each line at its net price, then the VAT; the sum is our gross."""
    items = [
        CheckoutItem(name=f"{line.service.name(locale)} ({i18n.format_number(line.quantity, locale)})", amount=line.net)
        for line in order.lines
    ]
    if order.tax:
        label = i18n.translations(locale).gettext("VAT %(rate)s %%") % {"rate": i18n.format_number(order.tax_rate)}
        items.append(CheckoutItem(name=label, amount=order.tax))
    return items


async def open_checkout(
    request: Request[Any, Any, Any], db_engine: AsyncEngine, order_id: int, *, locale: str, actor: Actor
) -> str:
    """A fresh checkout session for an order awaiting payment, recorded as a pending payment; returns its URL."""
    gateway = _gateway(request)
    sessions = session_factory(db_engine)
    async with read_only_session(db_engine) as session:
        order = await OrderService(session=session).get(order_id)
        attempt = 1 + await checkout_attempts(session, order.id)
    base = get_settings().base_url.rstrip("/")
    metadata = {"order_id": str(order.id), "order_number": order.number}
    key = f"checkout:{order.id}:{attempt}"
    if order.subscription_id is not None:  # the first period of a subscription: Stripe renews it monthly
        metadata["subscription_id"] = str(order.subscription_id)
        key = f"subscription:{order.subscription_id}:{attempt}"
    checkout = await gateway.create_checkout(
        CheckoutRequest(
            reference=str(order.id),
            currency=order.currency,
            items=checkout_items(order, locale),
            customer_email=order.customer.email,
            customer_id=order.customer.stripe_customer_id,
            success_url=f"{base}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/checkout/cancel?order={order.number}",
            idempotency_key=key,
            locale=locale,
            metadata=metadata,
            recurring_interval=subscribing.INTERVAL if order.subscription_id is not None else None,
        )
    )
    async with unit_of_work(sessions, ip=_ip(request)) as uow:
        await payments.record_checkout(
            uow, order_id=order.id, session=checkout, actor=actor, method=PaymentMethod.STRIPE
        )
    if not checkout.url:
        raise GatewayError("the processor returned no checkout page")
    return checkout.url


def _ip(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _order_cookie(request: Request[Any, Any, Any], response: Response[Any], token: str) -> None:
    response.set_cookie(
        ORDER_COOKIE,
        token,
        max_age=ORDER_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


class CheckoutController(Controller):
    include_in_schema = False

    @post("/checkout", status_code=303, guards=[require_same_origin])
    async def checkout(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], data: FormData
    ) -> Response[Any]:
        locale = i18n.current_locale.get()
        form = OrderForm.from_form(data)
        async with read_only_session(db_engine) as session:
            service = await catalog.active_service(session, data.get("service", ""))
            company = await CompanySettingsService(session=session).current()
        if service is None:
            raise NotFound(N_("This service does not exist or is no longer offered."))
        actor = Actor.customer(label=form.email.strip()[:200] or "storefront")
        try:
            checkout = read_checkout(form, service, locale)
            async with unit_of_work(session_factory(db_engine), ip=_ip(request)) as uow:
                if service.kind == ServiceKind.SUBSCRIPTION:
                    posts = read_posts(form, locale)
                    placed = await subscribing.place_subscription(uow, checkout, posts_per_period=posts, actor=actor)
                else:
                    placed = await place_checkout_order(uow, checkout, source=OrderSource.STOREFRONT, actor=actor)
                if placed.created:
                    await funnel.record_checkout_started(
                        uow,
                        visitor_id=funnel.valid_visitor_id(request.cookies.get(funnel.VISITOR_COOKIE)),
                        service_id=service.id,
                        order_id=placed.order.id,
                    )
        except ValidationFailed as exc:
            errors = form_errors(exc, service.kind)
            return service_page(request, service, company, form=form, errors=errors, status_code=422)
        order = placed.order
        if order.status != OrderStatus.PENDING_PAYMENT:  # the same form sent again after paying
            return Redirect(path="/checkout/done")
        try:
            url = await open_checkout(request, db_engine, order.id, locale=locale, actor=actor)
        except GatewayError as exc:
            log.warning("checkout not opened", order=order.number, error=str(exc))
            return render(request, "storefront/payment_unavailable.html", status_code=503, order=order, company=company)
        response: Response[Any] = Redirect(path=url, status_code=303)
        if placed.tracking_token:
            _order_cookie(request, response, placed.tracking_token)
        return response

    @get("/checkout/quote")
    async def live_quote(self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Template:
        """The live price under the order form (an HTML fragment): net, VAT as the buyer's facts decide, total."""
        locale = i18n.current_locale.get()
        form = OrderForm.from_form({key: request.query_params.get(key, "") for key in OrderForm.__dataclass_fields__})
        async with read_only_session(db_engine) as session:
            service = await catalog.active_service(session, request.query_params.get("service", ""))
            if service is None:
                raise NotFound(N_("This service does not exist or is no longer offered."))
            try:
                result = await quote(session, read_checkout(form, service, locale), on=utc_now().date())
            except ValidationFailed as exc:
                errors = form_errors(exc, service.kind)
                return render(request, "storefront/_quote.html", quote=None, errors=errors)
        monthly = service.kind == ServiceKind.SUBSCRIPTION
        return render(
            request, "storefront/_quote.html", quote=result, errors={}, currency=service.currency, monthly=monthly
        )

    @get("/checkout/success")
    async def success(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        session_id: Annotated[str, QueryParameter(max_length=255)] = "",
    ) -> Response[Any]:
        """Back from the processor: apply what it says (idempotent), then show the order."""
        gateway = _gateway(request)
        try:
            checkout = await gateway.retrieve_checkout(session_id) if session_id else None
        except GatewayError as exc:
            log.warning("checkout not confirmed", session=session_id, error=str(exc))
            checkout = None
        if checkout is not None:
            async with unit_of_work(session_factory(db_engine), ip=_ip(request)) as uow:
                await subscriptions.settle_checkout(uow, session=checkout, actor=Actor.customer(label="success page"))
        return Redirect(path="/checkout/done")

    @get("/checkout/done")
    async def done(self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]) -> Response[Any]:
        """The browser's own latest order (from its cookie), else a neutral thank-you page."""
        token = request.cookies.get(ORDER_COOKIE, "")
        if TRACKING_TOKEN.fullmatch(token):
            return Redirect(path=f"/track/{token}")
        return render(request, "storefront/thanks.html", company=await seller(db_engine))

    @get("/checkout/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        order: Annotated[str, QueryParameter(max_length=40)] = "",
    ) -> Template:
        return render(request, "storefront/canceled.html", order_number=order, company=await seller(db_engine))

    @post("/track/{token:str}/pay", status_code=303, guards=[require_same_origin])
    async def pay_again(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], token: FromPath[str]
    ) -> Response[Any]:
        """A new checkout for an order still awaiting payment (the client canceled or the page timed out)."""
        async with session_factory(db_engine)() as session:
            order = await OrderService(session=session).find_by_tracking_token(token[:200])
        if order is None:
            raise NotFound(N_("This order link is not valid. Please use the link from your email."))
        if order.status != OrderStatus.PENDING_PAYMENT:
            return Redirect(path=f"/track/{token}")
        actor = Actor.customer(order.customer_id, order.customer.email)
        try:
            url = await open_checkout(request, db_engine, order.id, locale=i18n.current_locale.get(), actor=actor)
        except GatewayError as exc:
            log.warning("checkout not opened", order=order.number, error=str(exc))
            company = await seller(db_engine)
            return render(request, "storefront/payment_unavailable.html", status_code=503, order=order, company=company)
        return Redirect(path=url, status_code=303)

    @post("/track/{token:str}/subscription", status_code=303, guards=[require_same_origin])
    async def manage_subscription(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], token: FromPath[str]
    ) -> Response[Any]:
        """The processor's customer portal for the subscription of this order (cancel, change the card)."""
        async with read_only_session(db_engine) as session:
            order = await OrderService(session=session).find_by_tracking_token(token[:200])
            subscription = await subscriptions.subscription_of(session, order) if order is not None else None
        if order is None:
            raise NotFound(N_("This order link is not valid. Please use the link from your email."))
        customer_id = order.customer.stripe_customer_id
        if subscription is None or subscription.stripe_subscription_id is None or not customer_id:
            return Redirect(path=f"/track/{token}")
        base = get_settings().base_url.rstrip("/")
        try:
            url = await _gateway(request).portal_url(customer_id=customer_id, return_url=f"{base}/track/{token}")
        except GatewayError as exc:
            log.warning("portal not opened", order=order.number, error=str(exc))
            company = await seller(db_engine)
            return render(request, "storefront/payment_unavailable.html", status_code=503, order=order, company=company)
        return Redirect(path=url, status_code=303)

    @get("/track/{token:str}")
    async def track(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine], token: FromPath[str]
    ) -> Template:
        """The client's order page: status, lines, totals. The URL is the secret: never sent as a referrer elsewhere."""
        async with read_only_session(db_engine) as session:
            order = await OrderService(session=session).get_one_or_none(
                tracking_token_hash=tracking_token_hash(token[:200])
            )
            company = await CompanySettingsService(session=session).current()
            subscription = await subscriptions.subscription_of(session, order) if order is not None else None
        if order is None:
            raise NotFound(N_("This order link is not valid. Please use the link from your email."))
        page = render(
            request, "storefront/order.html", order=order, token=token, company=company, subscription=subscription
        )
        page.headers.update(
            {"Referrer-Policy": PRIVATE_PAGE_REFERRER, "X-Robots-Tag": "noindex", "Cache-Control": "no-store"}
        )
        return page
