"""Refunding order lines from the back office: confirmation with the amount, Stripe (the fake, real SDK) in between,
errors shown on the form, finance and admins only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from app.accounts.models import Role
from app.asgi import create_app
from app.audit.models import AuditLog
from app.config import Settings
from app.orders.models import Order
from app.orders.states import PaymentStatus
from app.payments.models import Payment, Refund, RefundStatus
from app.sandbox import FakeStripe
from tests import factories
from tests.integration.admin.helpers import ADMIN, action_error, http_client, login_as

D = Decimal


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key="sk_test_admin_refunds") as fake:
        yield fake


@pytest.fixture
async def web(settings: Settings, fake: FakeStripe) -> AsyncIterator[AsyncTestClient[Any]]:
    fake.reset()
    async with http_client(create_app(fake.configure(settings))) as client:
        yield client


async def paid(session, fake: FakeStripe) -> Order:
    """Gross 11.90; line 1's share 2.98, line 2's 8.92."""
    order, _payment = await factories.card_paid_order(
        session, lambda o: fake.create_payment(int(o.gross * 100), metadata={"order_id": str(o.id)})["id"]
    )
    await session.commit()
    return order


async def refund(web, staff, slug: str, line_id: int, reason: str = "client asked"):
    return await web.post(
        f"/admin/order-line/action/{slug}?pks={line_id}",
        data={"reason": reason, "csrf_token": staff.csrf},
        follow_redirects=False,
    )


async def money_state(session, order_id: int) -> tuple[PaymentStatus, Decimal, list[Refund]]:
    session.expire_all()
    order = await session.get_one(Order, order_id)
    payment = await session.scalar(sa.select(Payment).where(Payment.order_id == order_id))
    rows = (await session.scalars(sa.select(Refund).order_by(Refund.id))).all()
    return order.payment_status, payment.refunded_amount, list(rows)


async def test_the_confirmation_page_states_the_amount_and_asks_for_a_reason(web, session, fake):
    order = await paid(session, fake)
    await login_as(session, web, Role.FINANCE)

    page = await web.get(f"/admin/order-line/action/refund-line?pks={order.lines[0].id}")

    assert page.status_code == 200
    assert f"{order.number}/1: refund €2.98 (line share €2.98, refunded so far €0.00)" in page.text
    assert 'name="reason"' in page.text
    assert (await money_state(session, order.id))[2] == []
    assert fake.refunds == {}


async def test_finance_refunds_a_line_end_to_end(web, session, fake):
    order = await paid(session, fake)
    finance = await login_as(session, web, Role.FINANCE)
    email, user_id = finance.user.email, finance.user.id

    response = await refund(web, finance, "refund-line", order.lines[1].id, reason="wrong profile")

    assert response.status_code == 303, action_error(response.text)
    status, refunded, (row,) = await money_state(session, order.id)
    assert (status, refunded, row.status, row.amount) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        D("8.92"),
        RefundStatus.SUCCEEDED,
        D("8.92"),
    )
    assert row.requested_by == email and row.reason == "wrong profile"
    assert [r["amount"] for r in fake.refunds.values()] == [892]
    actions = (await session.scalars(sa.select(AuditLog.action).where(AuditLog.actor_id == user_id))).all()
    assert {"request-refund", "record-refund"} <= set(actions)
    landing = await web.get(response.headers["location"])
    assert "Refund of €8.92 for " in landing.text


async def test_stripes_refusal_is_shown_on_the_form_and_moves_no_money(web, session, fake):
    order = await paid(session, fake)
    charge = next(iter(fake.charges.values()))
    charge["amount_refunded"] = charge["amount"] - 100  # refunded in the dashboard; we have not heard yet
    finance = await login_as(session, web, Role.FINANCE)

    response = await refund(web, finance, "refund-line", order.lines[0].id)

    assert response.status_code == 409
    assert (action_error(response.text) or "").startswith("Stripe refused the refund:")
    status, refunded, (row,) = await money_state(session, order.id)
    assert (status, refunded, row.status) == (PaymentStatus.PAID, 0, RefundStatus.FAILED)


async def test_an_over_refund_is_refused_on_the_form_before_stripe_is_asked(web, session, fake):
    order = await paid(session, fake)
    finance = await login_as(session, web, Role.FINANCE)
    assert (await refund(web, finance, "refund-line", order.lines[0].id)).status_code == 303

    again = await refund(web, finance, "refund-line", order.lines[0].id)

    assert again.status_code == 409
    assert "Nothing left to refund on line 1" in (action_error(again.text) or "")
    assert len(fake.refunds) == 1


async def test_staff_may_not_refund(web, session, fake):
    order = await paid(session, fake)
    staff = await login_as(session, web, Role.STAFF)

    response = await refund(web, staff, "refund-line", order.lines[0].id)

    assert response.status_code == 403
    assert (await money_state(session, order.id))[2] == []
    details = await web.get(f"/admin/order/details/{order.id}")
    assert 'data-testid="line-action-refund-line"' not in details.text


async def test_the_order_page_offers_finance_the_refund_of_each_line(web, session, fake):
    order = await paid(session, fake)
    await login_as(session, web, Role.FINANCE)

    details = await web.get(f"{ADMIN}/order/details/{order.id}")

    assert details.status_code == 200
    assert details.text.count('data-testid="line-action-refund-line"') == 2
    assert details.text.count('data-testid="line-action-refund-remains"') == 2
