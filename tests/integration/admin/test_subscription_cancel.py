"""Staff end a subscription at the end of its paid period: Stripe (the fake, real SDK) is asked, nothing is
collected after that period, and the subscription stays active until Stripe ends it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from app.accounts.models import Role
from app.asgi import create_app
from app.audit.models import AuditLog
from app.catalog.models import ServiceKind
from app.config import Settings
from app.payments.models import Subscription, SubscriptionStatus
from app.sandbox import FakeStripe
from tests import factories
from tests.integration.admin.helpers import http_client, login_as


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key="sk_test_admin_subscriptions") as fake:
        yield fake


@pytest.fixture
async def web(settings: Settings, fake: FakeStripe) -> AsyncIterator[AsyncTestClient[Any]]:
    fake.reset()
    async with http_client(create_app(fake.configure(settings))) as client:
        yield client


async def paid_subscription(web: AsyncTestClient[Any], session, fake: FakeStripe) -> Subscription:
    service = await factories.service(session, kind=ServiceKind.SUBSCRIPTION, price="29.0000", min_quantity=50)
    await factories.company_settings(session)
    await session.commit()
    form = {"service": service.slug, "username": "@cafe.lindenblatt", "posts": "4", "quantity": "100"}
    sent = await web.post("/checkout", data={**form, "email": "cafe@example.com"}, follow_redirects=False)
    match = re.search(r"/checkout/(cs_[A-Za-z0-9_]+)", sent.headers["location"])
    assert match is not None, sent.text
    for event in fake.pay(match.group(1), deliver=False):
        body, headers = fake.signed_request(event)
        assert (await web.post("/webhooks/stripe", content=body, headers=headers)).status_code == 200
    return (await session.scalars(sa.select(Subscription).execution_options(populate_existing=True))).one()


async def test_staff_cancel_a_subscription_at_the_end_of_its_period(web, session, fake):
    subscription = await paid_subscription(web, session, fake)
    our_id, stripe_id = subscription.id, str(subscription.stripe_subscription_id)
    staff = await login_as(session, web, Role.STAFF)

    answer = await web.post(
        f"/admin/subscription/action/cancel-at-period-end?pks={our_id}",
        data={"csrf_token": staff.csrf},
        follow_redirects=False,
    )

    assert answer.status_code == 303, answer.text
    at_stripe = fake.subscriptions[stripe_id]
    assert at_stripe["cancel_at_period_end"] is True and at_stripe["status"] == "active"
    session.expire_all()
    current = await session.get_one(Subscription, our_id)
    assert current.status == SubscriptionStatus.ACTIVE
    audit = await session.scalar(sa.select(AuditLog).where(AuditLog.action == "cancel-at-period-end"))
    assert audit is not None and audit.entity_id == str(our_id)
    (request,) = [r for r in fake.requests if r.method == "POST" and r.path.startswith("/v1/subscriptions/")]
    assert request.idempotency_key == f"cancel-at-period-end:{our_id}"


async def test_a_subscription_that_never_started_cannot_be_canceled_at_period_end(web, session, fake):
    service = await factories.service(session, kind=ServiceKind.SUBSCRIPTION, price="29.0000", min_quantity=1)
    buyer = await factories.customer(session)
    subscription = Subscription(customer_id=buyer.id, service_id=service.id, target_username="x", price=29)
    session.add(subscription)
    await session.commit()
    our_id = subscription.id
    staff = await login_as(session, web, Role.STAFF)

    answer = await web.post(
        f"/admin/subscription/action/cancel-at-period-end?pks={our_id}",
        data={"csrf_token": staff.csrf},
        follow_redirects=False,
    )

    assert answer.status_code == 409
    assert not [r for r in fake.requests if r.path.startswith("/v1/subscriptions/")]
