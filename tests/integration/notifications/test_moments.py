"""The client mails of the fulfilment and subscription moments and the payment alerts, as they arrive over SMTP."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.actors import Actor
from app.catalog.models import ServiceKind
from app.customers.models import Customer
from app.db.engine import session_factory
from app.fulfillment.commands import DispatchResult, record_dispatch, request_refill
from app.fulfillment.models import RefillRequest, RefillStatus
from app.fulfillment.refills import record_refill_sent, record_refill_status
from app.invoicing.tax import TaxDecision
from app.notifications.delivery import deliver
from app.notifications.jobs import sweep_outbox
from app.notifications.models import EmailKind, EmailOutbox, EmailStatus
from app.notifications.unsubscribe import unsubscribe_url
from app.orders.commands import place_order
from app.orders.models import Order, OrderSource
from app.orders.placing import LineInput
from app.orders.states import LineStatus
from app.payments import subscriptions
from app.payments.disputes import open_dispute
from app.payments.gateway import WebhookEvent
from app.payments.models import Subscription, SubscriptionStatus
from app.payments.webhooks import record_failure
from app.uow import UnitOfWork
from tests import factories
from tests.integration.notifications.conftest import SmtpServer
from tests.integration.notifications.helpers import send_jobs

WORKER = Actor.worker("test")
PERIOD_END = int(datetime(2027, 1, 7, 11, 0, tzinfo=UTC).timestamp())


async def outbox(session: AsyncSession, **where: Any) -> list[EmailOutbox]:
    rows = await session.scalars(
        sa.select(EmailOutbox).filter_by(**where).order_by(EmailOutbox.id).execution_options(populate_existing=True)
    )
    return list(rows)


async def arrived(engine: AsyncEngine, smtp_server: SmtpServer, mail: EmailOutbox) -> tuple[EmailMessage, str, str]:
    """The mail sent to the SMTP server: the message, its text part and its HTML part."""
    assert await deliver(session_factory(engine), mail.id, smtp_server.mailer()) == EmailStatus.SENT
    received = smtp_server.received[-1]
    assert received.recipients == [mail.to_address]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    return message, message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


async def anna(session: AsyncSession, locale: str) -> Customer:
    return await factories.customer(session, email="anna@example.com", name="Anna Beispiel", locale=locale)


# -- order started -------------------------------------------------------------------------------------------------

STARTED = {"de": "Bestellung {number}: Die Arbeit hat begonnen", "en": "Order {number}: work has started"}


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_the_first_line_at_the_provider_tells_the_client_once_in_their_language(
    engine, session, smtp_server, locale
):
    service = await factories.service(session, name_de="Instagram-Likes (DE)", name_en="Instagram Likes")
    link = "https://www.instagram.com/p/abc/"
    order = await factories.paid_order(session, buyer=await anna(session, locale), items=[(service, 1000, link)] * 2)
    first, second = order.lines
    for line, upstream in ((first, "71"), (second, "72")):
        await factories.move_line(session, line.id, LineStatus.DISPATCHING)
        await record_dispatch(
            UnitOfWork(session),
            line_id=line.id,
            actor=WORKER,
            result=DispatchResult.ACCEPTED,
            provider_order_id=upstream,
        )
        await session.commit()

    (mail,) = await outbox(session, template="order_started")
    assert await send_jobs(session, mail.id) == []  # written on the dispatch's hot path: the sweep queues it
    assert await sweep_outbox(session_factory(engine)) == (1, 0)
    message, text, html = await arrived(engine, smtp_server, mail)
    assert message["Subject"] == STARTED[locale].format(number=order.number)
    assert "List-Unsubscribe" not in message  # an order's own mails cannot be turned off
    service_name = "Instagram-Likes (DE)" if locale == "de" else "Instagram Likes"
    assert f"1,000 × {service_name}" in text.replace("1.000", "1,000")
    assert service_name in html


async def test_an_unsent_dispatch_starts_nothing(session):
    order = await factories.paid_order(session)
    (line,) = order.lines
    await factories.move_line(session, line.id, LineStatus.DISPATCHING)
    await record_dispatch(UnitOfWork(session), line_id=line.id, actor=WORKER, result=DispatchResult.NOT_SENT)
    await session.commit()

    assert await outbox(session, template="order_started") == []


# -- refills -------------------------------------------------------------------------------------------------------

REFILL_SUBJECTS = {
    ("refill_requested", "de"): "Bestellung {number}: Nachfüllung von {service} angefordert",
    ("refill_requested", "en"): "Order {number}: refill of {service} requested",
    ("refill_done", "de"): "Bestellung {number}: Nachfüllung von {service} erledigt",
    ("refill_done", "en"): "Order {number}: refill of {service} done",
}


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_a_refill_is_mailed_when_requested_and_when_done(engine, session, smtp_server, locale):
    upstream = await factories.provider(session)
    service = await factories.service(session, name_de="Follower", name_en="Followers", refill_days=30)
    order = await factories.paid_order(
        session, buyer=await anna(session, locale), items=[(service, 500, "https://www.instagram.com/anna/")]
    )
    (line,) = order.lines
    line.provider_id = upstream.id
    await factories.move_line(
        session, line.id, LineStatus.DISPATCHING, LineStatus.DISPATCHED, LineStatus.COMPLETED, provider_order_id="81"
    )
    await session.commit()

    await request_refill(UnitOfWork(session), line_ids=[line.id], actor=Actor.customer(1, "anna@example.com"))
    await session.commit()
    refill_id = await session.scalar(sa.select(RefillRequest.id).where(RefillRequest.order_line_id == line.id))
    assert refill_id is not None
    await record_refill_sent(UnitOfWork(session), refill_id=refill_id, provider_refill_id="5", actor=WORKER)
    for status in (RefillStatus.IN_PROGRESS, RefillStatus.COMPLETED, RefillStatus.COMPLETED):
        await record_refill_status(UnitOfWork(session), refill_id=refill_id, status=status, actor=WORKER)
    await session.commit()

    service_name = service.name(locale)
    for template in ("refill_requested", "refill_done"):
        (mail,) = await outbox(session, template=template)
        message, text, _html = await arrived(engine, smtp_server, mail)
        assert message["Subject"] == REFILL_SUBJECTS[template, locale].format(number=order.number, service=service_name)
        assert "https://www.instagram.com/anna/" in text


# -- subscriptions ------------------------------------------------------------------------------------------------


async def subscription(session: AsyncSession, locale: str) -> tuple[Subscription, Order]:
    """An active subscription with its paid first order."""
    service = await factories.service(
        session, kind=ServiceKind.SUBSCRIPTION, price="29.0000", name_de="Auto-Likes", name_en="Auto likes"
    )
    await factories.company_settings(session)
    buyer = await anna(session, locale)
    sub = Subscription(
        customer_id=buyer.id,
        service_id=service.id,
        stripe_subscription_id="sub_mail_1",
        status=SubscriptionStatus.ACTIVE,
        target_username="anna",
        price=Decimal("34.51"),
        currency="EUR",
    )
    session.add(sub)
    await session.flush()
    placed = await place_order(
        UnitOfWork(session),
        customer_id=buyer.id,
        items=[LineInput(service_id=service.id, link="anna", quantity=1000)],
        source=OrderSource.STOREFRONT,
        actor=factories.TEST_ACTOR,
        tax=TaxDecision.domestic(),
        subscription_id=sub.id,
    )
    await session.commit()
    return sub, placed.order


def invoice(order: Order, *, invoice_id: str = "in_renewal_1") -> dict[str, Any]:
    return {
        "id": invoice_id,
        "billing_reason": subscriptions.RENEWAL_REASON,
        "subscription": "sub_mail_1",
        "amount_paid": int(order.gross * 100),
        "currency": "eur",
        "lines": {"data": [{"period": {"end": PERIOD_END}}]},
    }


RENEWED = {"de": "Ihr Abonnement Auto-Likes wurde verlängert", "en": "Your subscription Auto likes has been renewed"}


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_a_renewal_notice_carries_a_one_click_unsubscribe(engine, session, smtp_server, locale):
    sub, first = await subscription(session, locale)

    renewal = await subscriptions.renew(UnitOfWork(session), invoice=invoice(first), actor=WORKER)
    await subscriptions.renew(UnitOfWork(session), invoice=invoice(first), actor=WORKER)  # delivered twice
    await session.commit()

    assert renewal is not None
    (mail,) = await outbox(session, template="subscription_renewed")
    message, text, html = await arrived(engine, smtp_server, mail)
    assert message["Subject"] == RENEWED[locale]
    url = unsubscribe_url(sub.customer_id)
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"<{url}>" in text and f'href="{url}"' in html
    assert renewal.number in text and f"/portal?lang={locale}>" in text
    # the renewal order's own confirmation (payment received, invoice attached) is queued besides it
    assert [m.template for m in await outbox(session, order_id=renewal.id)] == [
        "order_confirmation",
        "subscription_renewed",
    ]


async def test_no_renewal_notice_after_unsubscribing(session):
    sub, first = await subscription(session, "de")
    await session.execute(sa.update(Customer).where(Customer.id == sub.customer_id).values(renewal_notices=False))

    assert await subscriptions.renew(UnitOfWork(session), invoice=invoice(first), actor=WORKER) is not None
    await session.commit()

    assert await outbox(session, template="subscription_renewed") == []
    assert len(await outbox(session, template="order_confirmation")) == 2  # the first order's and the renewal's


FAILED = {
    "de": "Zahlung für Ihr Abonnement Auto-Likes fehlgeschlagen",
    "en": "Payment for your subscription Auto likes failed",
}


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_a_declined_renewal_asks_the_client_to_update_the_card_in_the_portal(
    engine, session, smtp_server, locale
):
    await subscription(session, locale)
    declined = {"id": "in_declined_1", "subscription": "sub_mail_1", "currency": "eur"}

    await subscriptions.invoice_failed(UnitOfWork(session), invoice=declined, actor=WORKER)
    await session.commit()

    (mail,) = await outbox(session, template="subscription_payment_failed")
    message, text, html = await arrived(engine, smtp_server, mail)
    assert message["Subject"] == FAILED[locale]
    assert "List-Unsubscribe" not in message
    # a link to our portal, which opens the processor's portal on a click: no short-lived processor URL in a mail
    assert f"/portal?lang={locale}>" in text and "billing_portal" not in html


ENDED = {"de": "Ihr Abonnement Auto-Likes ist beendet", "en": "Your subscription Auto likes has ended"}


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_a_canceled_subscription_is_mailed_once(engine, session, smtp_server, locale):
    await subscription(session, locale)
    deleted = {"id": "sub_mail_1", "status": "canceled", "canceled_at": PERIOD_END}

    for _ in range(2):
        await subscriptions.update_from_stripe(UnitOfWork(session), subscription=deleted, actor=WORKER)
    await session.commit()

    (mail,) = await outbox(session, template="subscription_canceled")
    message, text, _html = await arrived(engine, smtp_server, mail)
    assert message["Subject"] == ENDED[locale]
    assert "@anna" not in text and "anna" in text


# -- staff alerts --------------------------------------------------------------------------------------------------


async def test_an_opened_dispute_alerts_staff_once_with_a_link_to_the_order(engine, session, smtp_server):
    await factories.company_settings(session, email="ops@shop.example")
    order, _payment = await factories.card_paid_order(session, lambda _order: "pi_disputed_1", quantities=(1000,))
    await session.commit()
    dispute = {
        "id": "dp_1",
        "payment_intent": "pi_disputed_1",
        "amount": 297,
        "currency": "eur",
        "reason": "fraudulent",
    }

    for _ in range(2):
        await open_dispute(UnitOfWork(session), dispute=dispute, actor=WORKER)
    await open_dispute(UnitOfWork(session), dispute=dispute | {"id": "dp_2"}, actor=WORKER)  # same order, same hour
    await session.commit()

    (alert,) = await outbox(session, kind=EmailKind.STAFF)
    message, text, _html = await arrived(engine, smtp_server, alert)
    assert alert.to_address == "ops@shop.example"
    assert message["Subject"].startswith(f"[Alarm] {order.number}: dispute dp_1 opened (fraudulent, 2.97 EUR)")
    assert f"/admin/order/details/{order.id}>" in text


def stripe_event(event_id: str) -> WebhookEvent:
    payload = {"id": event_id, "type": "invoice.paid", "data": {"object": {"id": "in_x"}}}
    return WebhookEvent(event_id, "invoice.paid", datetime.now(UTC), payload["data"]["object"], payload)


async def test_a_failed_webhook_alerts_staff_once_per_event_and_hour_with_a_link_to_the_event(
    engine, session, smtp_server
):
    await factories.company_settings(session, email="ops@shop.example")
    for _ in range(3):  # Stripe delivers a failing event again
        await record_failure(UnitOfWork(session), stripe_event("evt_failing_1"), "KeyError: 'lines'")
    await record_failure(UnitOfWork(session), stripe_event("evt_failing_2"), "KeyError: 'lines'")
    await session.commit()

    first, second = await outbox(session, kind=EmailKind.STAFF)
    message, text, _html = await arrived(engine, smtp_server, first)
    assert message["Subject"].strip() == "[Alarm] Stripe event invoice.paid (evt_failing_1) failed: KeyError: 'lines'"
    assert "/admin/stripe-event/details/evt_failing_1>" in text
    assert second.context["admin_url"].endswith("/admin/stripe-event/details/evt_failing_2")
