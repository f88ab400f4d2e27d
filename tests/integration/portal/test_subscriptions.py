"""A client manages their subscription from the portal: "Manage" opens the processor's customer portal (here the
fake Stripe's) for their own processor account, with the way back to /portal."""

from __future__ import annotations

from decimal import Decimal

import httpx
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.catalog.models import ServiceKind
from app.customers.models import Customer
from app.payments.models import Subscription, SubscriptionStatus
from app.sandbox import FakeStripe
from tests import factories
from tests.integration.portal.conftest import csrf_of, log_in


async def test_manage_opens_the_processors_portal_for_the_clients_own_account(settings, session):
    with FakeStripe(api_key="sk_test_portal") as fake:
        stripe_customer = fake.state.create_customer({"email": "anna@example.com"}).body["id"]
        buyer = await factories.customer(session, email="anna@example.com", locale="en")
        await session.execute(
            sa.update(Customer).where(Customer.id == buyer.id).values(stripe_customer_id=stripe_customer)
        )
        service = await factories.service(session, kind=ServiceKind.SUBSCRIPTION, price="29.0000", min_quantity=1)
        subscription = Subscription(
            customer_id=buyer.id,
            service_id=service.id,
            status=SubscriptionStatus.ACTIVE,
            target_username="anna.studio",
            price=Decimal("34.51"),
            stripe_subscription_id="sub_anna",
        )
        session.add(subscription)
        await session.commit()
        async with AsyncTestClient(app=create_app(fake.configure(settings)), base_url="http://testserver.local") as web:
            await log_in(web, session, buyer.email)
            home = await web.get("/portal")
            assert "anna.studio" in home.text and "Manage" in home.text

            answer = await web.post(
                f"/portal/subscriptions/{subscription.id}/manage",
                data={"csrf_token": csrf_of(home.text)},
                follow_redirects=False,
            )

        assert answer.status_code == 303
        assert answer.headers["location"].startswith(fake.base_url)
        async with httpx.AsyncClient() as browser:
            page = await browser.get(answer.headers["location"])
        assert page.status_code == 200 and f'href="{settings.base_url}/portal"' in page.text
