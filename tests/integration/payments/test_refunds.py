"""Refunds on real PostgreSQL against the fake Stripe (real SDK): line refunds in two units of work around the
gateway, idempotent retries, ``charge.refunded`` reconciliation and disputes, in any order and any number of times."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.actors import Actor
from app.db.engine import session_factory
from app.orders.models import Order, OrderEvent
from app.orders.states import PaymentStatus
from app.payments.gateway import Refund as GatewayRefund
from app.payments.models import Payment, Refund, RefundStatus
from app.payments.refund_flow import RefundNotSent, refund_line
from app.payments.refunds import RefundAmount, RefundRefused
from app.payments.stripe_gateway import StripeGateway, webhook_event
from app.payments.webhooks import Handled, handle_event
from app.sandbox import FakeStripe
from app.uow import unit_of_work
from tests import factories

STAFF = Actor.cli("finance@smplat.example")
D = Decimal


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


async def paid(session: AsyncSession, fake: FakeStripe, quantities: tuple[int, ...] = (1000, 3000)):
    """Order gross 11.90 (nets 2.50 + 7.50, VAT 1.90): line shares 2.98 and 8.92."""
    order, payment = await factories.card_paid_order(
        session,
        lambda o: fake.create_payment(int(o.gross * 100), metadata={"order_id": str(o.id)})["id"],
        quantities=quantities,
    )
    await session.commit()
    return order, payment


async def state(session: AsyncSession, order_id: int) -> tuple[Order, Payment, list[Refund]]:
    session.expire_all()
    order = await session.scalar(sa.select(Order).where(Order.id == order_id))
    payment = await session.scalar(sa.select(Payment).where(Payment.order_id == order_id))
    assert order is not None and payment is not None
    refunds = (
        await session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id))
    ).all()
    return order, payment, list(refunds)


def charge_of(fake: FakeStripe, payment: Payment) -> dict[str, Any]:
    intent = fake.payment_intents[payment.stripe_payment_intent_id or ""]
    return fake.charges[intent["latest_charge"]]


async def deliver(sessions: async_sessionmaker[AsyncSession], event: dict[str, Any]) -> Handled:
    async with unit_of_work(sessions) as uow:
        return await handle_event(uow, webhook_event(event))


def refund_requests(fake: FakeStripe) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.path.startswith("/v1/refunds")]


# -- refunding a line -------------------------------------------------------------------------------------------


async def test_refunding_a_full_line_gives_back_its_gross_share_and_marks_the_payment_partially_refunded(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, _payment = await paid(session, fake)
    first = order.lines[0]

    outcome = await refund_line(sessions, gateway, line_id=first.id, actor=STAFF, reason="client cancelled")

    assert (outcome.status, outcome.amount, outcome.resumed) == (RefundStatus.SUCCEEDED, D("2.98"), False)
    order, payment, (refund,) = await state(session, order.id)
    assert payment.refunded_amount == D("2.98")
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert refund.idempotency_key == f"refund:{first.id}:1" and refund.requested_by == STAFF.label
    assert refund.stripe_refund_id in fake.refunds and fake.refunds[refund.stripe_refund_id]["amount"] == 298
    notes = (await session.scalars(sa.select(OrderEvent.note).where(OrderEvent.order_id == order.id))).all()
    assert "refunded 2.98 EUR: client cancelled" in notes


async def test_refunding_every_line_refunds_the_whole_payment_to_the_cent(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, _payment = await paid(session, fake, quantities=(1000, 1000, 1000))  # VAT 0.57 split 0.19 x 3
    for line in order.lines:
        await refund_line(sessions, gateway, line_id=line.id, actor=STAFF, reason="all of it")

    order, payment, refunds = await state(session, order.id)
    assert sum(r.amount for r in refunds) == order.gross == payment.refunded_amount
    assert order.payment_status == PaymentStatus.REFUNDED
    assert charge_of(fake, payment)["refunded"] is True


async def test_a_partial_amount_then_the_remaining_share_of_undelivered_units(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, _payment = await paid(session, fake)
    second = order.lines[1]  # share 8.92 of 3000 units
    await refund_line(sessions, gateway, line_id=second.id, actor=STAFF, reason="goodwill", amount=D("1.00"))
    async with sessions() as s, s.begin():
        line = await s.get_one(type(second), second.id)
        line.remains = 1500  # half undelivered: 4.46

    outcome = await refund_line(
        sessions, gateway, line_id=second.id, actor=STAFF, reason="undelivered", kind=RefundAmount.REMAINING_SHARE
    )

    assert outcome.amount == D("3.46")  # 4.46 undelivered, less the 1.00 given back already
    _order, payment, refunds = await state(session, order.id)
    assert [r.idempotency_key for r in refunds] == [f"refund:{second.id}:1", f"refund:{second.id}:2"]
    assert payment.refunded_amount == D("4.46")


async def test_an_over_refund_is_refused_by_us_before_stripe_is_asked(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, _payment = await paid(session, fake)

    with pytest.raises(RefundRefused, match="more than line 1 has left"):
        await refund_line(sessions, gateway, line_id=order.lines[0].id, actor=STAFF, reason="x", amount=D("2.99"))

    _order, payment, refunds = await state(session, order.id)
    assert refunds == [] and payment.refunded_amount == 0
    assert refund_requests(fake) == []


async def test_a_refund_stripe_refuses_is_recorded_failed_with_stripes_reason(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, payment = await paid(session, fake)
    # Refunded in the Stripe dashboard, and we have not heard of it yet: only 0.90 is left at Stripe.
    await gateway.refund(
        payment_intent_id=payment.stripe_payment_intent_id or "", amount=D("11.00"), currency="EUR", idempotency_key="k"
    )

    with pytest.raises(RefundRefused, match=r"Stripe refused the refund: .*greater than unrefunded amount"):
        await refund_line(sessions, gateway, line_id=order.lines[0].id, actor=STAFF, reason="x")

    order, payment, (refund,) = await state(session, order.id)
    assert refund.status == RefundStatus.FAILED and "greater than unrefunded amount" in (refund.failure or "")
    assert payment.refunded_amount == 0 and order.payment_status == PaymentStatus.PAID


async def test_a_crash_after_stripe_refunded_is_retried_with_the_same_key_and_refunds_once(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, _payment = await paid(session, fake)
    line = order.lines[1]

    class CrashesAfterTheCall:
        async def refund(self, **kwargs: Any) -> GatewayRefund:
            await gateway.refund(**kwargs)
            raise RuntimeError("process killed before unit of work 2")

    with pytest.raises(RuntimeError):
        await refund_line(sessions, CrashesAfterTheCall(), line_id=line.id, actor=STAFF, reason="x")  # type: ignore[arg-type]
    _order, _payment, (pending,) = await state(session, order.id)
    assert pending.status == RefundStatus.PENDING

    retried = await refund_line(sessions, gateway, line_id=line.id, actor=STAFF, reason="again")

    assert retried.resumed and retried.refund_id == pending.id and retried.amount == D("8.92")
    assert [r.idempotency_key for r in refund_requests(fake)] == [f"refund:{line.id}:1"] * 2
    assert len(fake.refunds) == 1
    order, payment, (refund,) = await state(session, order.id)
    assert refund.status == RefundStatus.SUCCEEDED and payment.refunded_amount == D("8.92")


async def test_stripe_unreachable_leaves_the_refund_pending_and_a_retry_sends_it(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, _payment = await paid(session, fake)
    fake.fail_next("POST", "/v1/refunds", status=503, times=3)  # the SDK's own retries included

    with pytest.raises(RefundNotSent):
        await refund_line(sessions, gateway, line_id=order.lines[0].id, actor=STAFF, reason="x")
    _order, payment, (refund,) = await state(session, order.id)
    assert refund.status == RefundStatus.PENDING and payment.refunded_amount == 0

    await refund_line(sessions, gateway, line_id=order.lines[0].id, actor=STAFF, reason="x")
    _order, payment, (refund,) = await state(session, order.id)
    assert refund.status == RefundStatus.SUCCEEDED and payment.refunded_amount == D("2.98")


# -- charge.refunded --------------------------------------------------------------------------------------------


async def test_a_refund_made_in_the_stripe_dashboard_is_reconciled_from_charge_refunded(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, payment = await paid(session, fake)
    await gateway.refund(
        payment_intent_id=payment.stripe_payment_intent_id or "", amount=D("5.00"), currency="EUR", idempotency_key="d"
    )
    (event,) = [e for e in fake.events if e["type"] == "charge.refunded"]

    assert await deliver(sessions, event) == Handled.PROCESSED

    order, payment, (refund,) = await state(session, order.id)
    assert payment.refunded_amount == D("5.00") and order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert (refund.order_line_id, refund.reason, refund.amount) == (None, "refunded in Stripe", D("5.00"))
    assert refund.status == RefundStatus.SUCCEEDED and refund.requested_by == "Stripe"


async def test_the_echo_of_our_own_refund_is_not_counted_twice_even_before_we_record_it(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, _payment = await paid(session, fake)
    line = order.lines[0]

    class EchoFirst:
        """Stripe's webhook wins the race against unit of work 2."""

        async def refund(self, **kwargs: Any) -> GatewayRefund:
            result = await gateway.refund(**kwargs)
            (echo,) = [e for e in fake.events if e["type"] == "charge.refunded"]
            await deliver(sessions, echo)
            return result

    await refund_line(sessions, EchoFirst(), line_id=line.id, actor=STAFF, reason="x")  # type: ignore[arg-type]
    for event in fake.events:
        await deliver(sessions, {**event, "id": event["id"] + "_redelivered"})

    order, payment, (refund,) = await state(session, order.id)
    assert refund.status == RefundStatus.SUCCEEDED and refund.order_line_id == line.id
    assert payment.refunded_amount == D("2.98")


async def test_charge_refunded_duplicates_and_out_of_order_deliveries_converge(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, payment = await paid(session, fake)
    intent = payment.stripe_payment_intent_id or ""
    await gateway.refund(payment_intent_id=intent, amount=D("3.00"), currency="EUR", idempotency_key="a")
    await gateway.refund(payment_intent_id=intent, amount=D("8.90"), currency="EUR", idempotency_key="b")
    older, newer = [e for e in fake.events if e["type"] == "charge.refunded"]
    # Stripe sends the charge as it was when each event happened: the older one knows only the first refund.
    older["data"]["object"]["amount_refunded"] = 300
    older["data"]["object"]["refunds"]["data"] = older["data"]["object"]["refunds"]["data"][-1:]

    for event in (newer, older, newer, older):
        await deliver(sessions, event)

    order, payment, refunds = await state(session, order.id)
    assert payment.refunded_amount == D("11.90") and order.payment_status == PaymentStatus.REFUNDED
    assert sorted(r.amount for r in refunds) == [D("3.00"), D("8.90")]


# -- disputes ---------------------------------------------------------------------------------------------------


def dispute(fake: FakeStripe, payment: Payment, status: str = "needs_response", **extra: Any) -> dict[str, Any]:
    return {
        "id": extra.pop("id", "dp_test_1"),
        "object": "dispute",
        "amount": 1190,
        "currency": "eur",
        "charge": charge_of(fake, payment)["id"],
        "payment_intent": payment.stripe_payment_intent_id,
        "reason": "fraudulent",
        "status": status,
        **extra,
    }


async def notes_of(session: AsyncSession, order_id: int) -> list[str]:
    rows = await session.scalars(
        sa.select(OrderEvent.note).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    )
    return [note for note in rows.all() if note]


async def test_a_dispute_flags_the_order_and_a_won_dispute_restores_the_payment_status(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, payment = await paid(session, fake)
    await refund_line(sessions, gateway, line_id=order.lines[0].id, actor=STAFF, reason="x")

    opened = fake.event("charge.dispute.created", dispute(fake, payment))
    await deliver(sessions, opened)
    await deliver(sessions, {**opened, "id": opened["id"] + "_again"})  # another delivery of the same dispute
    order, _payment, _refunds = await state(session, order.id)
    assert order.payment_status == PaymentStatus.DISPUTED
    assert (await notes_of(session, order.id)).count("dispute opened: fraudulent, 11.90 EUR") == 1

    await deliver(sessions, fake.event("charge.dispute.closed", dispute(fake, payment, "won")))
    order, _payment, _refunds = await state(session, order.id)
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert "dispute closed, won: 11.90 EUR stays with us" in await notes_of(session, order.id)


async def test_a_lost_dispute_stays_disputed_and_says_so_in_the_timeline(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, payment = await paid(session, fake)
    await deliver(sessions, fake.event("charge.dispute.created", dispute(fake, payment)))
    await deliver(sessions, fake.event("charge.dispute.closed", dispute(fake, payment, "lost")))

    order, _payment, _refunds = await state(session, order.id)
    assert order.payment_status == PaymentStatus.DISPUTED
    assert "dispute closed, lost: 11.90 EUR lost" in await notes_of(session, order.id)


async def test_a_dispute_closed_before_its_opening_arrives_is_not_reopened(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, payment = await paid(session, fake)
    await deliver(sessions, fake.event("charge.dispute.closed", dispute(fake, payment, "won")))
    await deliver(sessions, fake.event("charge.dispute.created", dispute(fake, payment)))

    order, _payment, _refunds = await state(session, order.id)
    assert order.payment_status == PaymentStatus.PAID


async def test_a_disputed_payment_takes_no_refund_until_the_dispute_is_settled(
    session, sessions, fake: FakeStripe, gateway: StripeGateway
):
    order, payment = await paid(session, fake)
    await deliver(sessions, fake.event("charge.dispute.created", dispute(fake, payment)))

    with pytest.raises(RefundRefused, match="disputed"):
        await refund_line(sessions, gateway, line_id=order.lines[0].id, actor=STAFF, reason="x")
    assert refund_requests(fake) == []
