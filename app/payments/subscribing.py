"""Subscribing: the storefront's monthly plan placed as a subscription (``incomplete``) and its first order.

The first order pays the first period through Stripe Checkout in subscription mode; what happens after (activation,
renewals, status) is ``app/payments/subscriptions.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from app.actors import Actor
from app.catalog.models import Service, ServiceKind
from app.errors import NotFound, ValidationFailed
from app.fulfillment.dispatch import HANDLE_IN_LINK, subscription_username
from app.i18n import N_, Message
from app.orders.checkout import CheckoutInput, buyer_of, customer_for_checkout, quote
from app.orders.commands import PlacedOrder, place_order
from app.orders.models import OrderSource
from app.payments.models import Subscription, SubscriptionStatus
from app.payments.subscriptions import order_by_key
from app.uow import UnitOfWork

INTERVAL = "month"
MIN_POSTS_PER_PERIOD = 1
MAX_POSTS_PER_PERIOD = 30


def _posts_errors(posts: int | None) -> dict[str, str | Message]:
    if posts is None:
        return {"posts": N_("enter how many posts a month")}
    if not MIN_POSTS_PER_PERIOD <= posts <= MAX_POSTS_PER_PERIOD:
        return {
            "posts": Message(
                N_("must be between %(min)s and %(max)s"), {"min": MIN_POSTS_PER_PERIOD, "max": MAX_POSTS_PER_PERIOD}
            )
        }
    return {}


async def place_subscription(
    uow: UnitOfWork, checkout: CheckoutInput, *, posts_per_period: int | None, actor: Actor
) -> PlacedOrder:
    """A subscription (``incomplete``) and its first order awaiting payment; idempotent on the form's key.

    ``checkout`` has one item: the service, the account's link or @handle, the likes or views per post. Raises
    ValidationFailed (form fields ``username``, ``quantity``, ``posts``, buyer fields) before writing anything.
    """
    if len(checkout.items) != 1:
        raise ValidationFailed({"lines": N_("a subscription is for one service")})
    (item,) = checkout.items
    if checkout.idempotency_key:
        # Two submissions of one form queue here, so the second finds the first's order and makes no subscription.
        await uow.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(checkout.idempotency_key))))
        if existing := await order_by_key(uow, checkout.idempotency_key):
            return PlacedOrder(existing, None, created=False)
    service = await uow.session.get(Service, item.service_id)
    if service is None or not service.is_active or service.kind != ServiceKind.SUBSCRIPTION:
        raise NotFound(N_("This service does not exist or is no longer offered."))
    errors = _posts_errors(posts_per_period)
    try:
        customer_input, _buyer = buyer_of(checkout)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        priced = await quote(uow.session, checkout, on=uow.now().date())
    except ValidationFailed as exc:
        raise ValidationFailed({**_as_username(exc.errors), **errors}) from exc
    link = priced.links[0]
    if link is None or not HANDLE_IN_LINK.match(link):
        errors["username"] = N_("enter the account's username or profile link, not a post")
    if errors:
        raise ValidationFailed(errors)
    assert link is not None
    assert posts_per_period is not None
    customer = await customer_for_checkout(uow, customer_input, actor)
    now = uow.now()
    subscription = Subscription(
        customer_id=customer.id,
        service_id=service.id,
        status=SubscriptionStatus.INCOMPLETE,
        target_username=subscription_username(link),
        posts_per_period=posts_per_period,
        quantity_per_post=item.quantity,
        price=priced.totals.gross,
        currency=service.currency,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(subscription)
    await uow.flush()
    placed = await place_order(
        uow,
        customer_id=customer.id,
        items=[item],
        source=OrderSource.STOREFRONT,
        actor=actor,
        tax=priced.tax,
        buyer=priced.buyer,
        idempotency_key=checkout.idempotency_key,
        subscription_id=subscription.id,
    )
    uow.audit(
        actor,
        "create",
        "subscription",
        subscription.id,
        details={
            "service": service.slug,
            "username": subscription.target_username,
            "posts_per_period": posts_per_period,
            "quantity_per_post": item.quantity,
            "price": subscription.price,
            "order": placed.order.number,
        },
    )
    await uow.flush()
    return placed


def _as_username(errors: Mapping[str, str | Message]) -> dict[str, str | Message]:
    return {("username" if key.endswith(".link") else key): text for key, text in errors.items()}
