"""The back office's subscription page lists the subscription's orders."""

from __future__ import annotations

from decimal import Decimal

from app.accounts.models import Role
from app.catalog.models import ServiceKind
from app.payments.models import Subscription, SubscriptionStatus
from tests import factories
from tests.integration.admin.helpers import login_as


async def test_the_subscription_page_lists_its_orders(web, session):
    service = await factories.service(session, kind=ServiceKind.SUBSCRIPTION, price="29.0000", min_quantity=1)
    buyer = await factories.customer(session)
    subscription = Subscription(
        customer_id=buyer.id,
        service_id=service.id,
        status=SubscriptionStatus.ACTIVE,
        target_username="cafe.lindenblatt",
        price=Decimal("34.51"),
    )
    session.add(subscription)
    await session.flush()
    mine = await factories.place_order(session, buyer=buyer, items=[(service, 100, "@cafe.lindenblatt")])
    mine.order.subscription_id = subscription.id
    other = await factories.place_order(session, buyer=buyer)
    await session.commit()
    await login_as(session, web, Role.STAFF)

    page = await web.get(f"/admin/subscription/details/{subscription.id}")

    assert page.status_code == 200
    assert 'data-testid="subscription-orders"' in page.text
    assert mine.order.number in page.text and other.order.number not in page.text
