"""The wired mails arrive as clients and staff should see them: language, subject, recipient, parts, links."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.customers.models import Customer
from app.db.engine import session_factory
from app.errors import Conflict
from app.fulfillment.alerts import AlertTopic, alert_staff
from app.fulfillment.commands import DispatchResult, UpstreamProgress, record_dispatch, record_progress
from app.invoicing.commands import issue_invoice
from app.invoicing.models import Invoice
from app.invoicing.resending import resend_invoices
from app.notifications.delivery import deliver
from app.notifications.jobs import sweep_outbox
from app.notifications.models import EmailKind, EmailOutbox, EmailStatus
from app.notifications.outbox import EMAIL_QUEUE, SEND_TASK, queue_sending, send_lock
from app.orders import commands as order_commands
from app.orders.placing import LineInput, tracking_token_hash
from app.orders.states import LineStatus
from app.payments import gateway
from app.payments.follow_ups import after_payment
from app.payments.links import create_checkout_link, link_token_hash
from app.payments.models import Refund
from app.payments.refunds import record_refund_result
from app.uow import UnitOfWork, utc_now
from tests import factories
from tests.integration.notifications.helpers import send_jobs

SUBJECTS = {"de": "Bestellung {number}: Zahlung erhalten, danke", "en": "Order {number}: payment received, thank you"}
GREETINGS = {"de": "Hallo Anna Beispiel,", "en": "Hello Anna Beispiel,"}


async def outbox(session, **where) -> list[EmailOutbox]:
    rows = await session.scalars(
        sa.select(EmailOutbox).filter_by(**where).order_by(EmailOutbox.id).execution_options(populate_existing=True)
    )
    return list(rows)


async def pay(session, order) -> None:
    order = await order_commands.mark_paid(UnitOfWork(session), order_id=order.id, actor=factories.TEST_ACTOR)
    await after_payment(UnitOfWork(session), order, factories.TEST_ACTOR)
    await session.commit()


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_paid_order_sends_its_confirmation_with_the_invoice_and_a_working_tracking_link(
    engine, session, smtp_server, locale
):
    await factories.company_settings(session, email="support@shop.example")
    buyer = await factories.customer(session, email="anna@example.com", name="Anna Beispiel", locale=locale)
    placed = await factories.place_order(session, buyer=buyer)
    (held,) = await outbox(session, order_id=placed.order.id)
    assert held.status == EmailStatus.HELD  # nothing goes out for an order nobody paid
    await pay(session, placed.order)

    assert await deliver(session_factory(engine), held.id, smtp_server.mailer()) == EmailStatus.SENT

    (received,) = smtp_server.received
    message = received.message
    assert received.recipients == ["anna@example.com"]
    assert message["Subject"] == SUBJECTS[locale].format(number=placed.order.number)
    assert message["Reply-To"] == "support@shop.example"
    assert message.get_content_type() == "multipart/mixed"
    (attachment,) = message.iter_attachments()
    invoice = await session.scalar(
        sa.select(Invoice).where(Invoice.order_id == placed.order.id).execution_options(populate_existing=True)
    )
    assert invoice is not None
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert hashlib.sha256(attachment.get_content()).hexdigest() == invoice.pdf_sha256  # the stored PDF, rendered once
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert GREETINGS[locale] in text
    assert GREETINGS[locale] in html
    url = re.search(r"<(http://\S+/track/([\w-]+)\?lang=(\w\w))>", text)
    assert url is not None, text
    assert url.group(3) == locale
    assert tracking_token_hash(url.group(2)) == placed.order.tracking_token_hash
    assert f'href="{url.group(1)}"' in html


async def test_confirmation_is_released_once_however_often_payment_is_followed_up(session):
    placed = await factories.place_order(session)
    await pay(session, placed.order)
    await after_payment(UnitOfWork(session), placed.order, factories.TEST_ACTOR)
    await session.commit()

    (confirmation,) = await outbox(session, order_id=placed.order.id)
    assert confirmation.status == EmailStatus.QUEUED
    assert len(await send_jobs(session, confirmation.id)) == 1


async def test_released_confirmation_gets_one_sending_job_on_the_mail_queue_under_its_lock(session):
    placed = await factories.place_order(session)
    (held,) = await outbox(session, order_id=placed.order.id)
    # A job already waiting for this mail (e.g. queued by the sweep) is kept: releasing adds no second one.
    await queue_sending(UnitOfWork(session), held.id)
    await pay(session, placed.order)

    jobs = (
        await session.execute(
            sa.text(
                "SELECT queue_name, queueing_lock, args, status::text FROM procrastinate_jobs WHERE task_name = :task"
            ),
            {"task": SEND_TASK},
        )
    ).all()
    assert [tuple(job) for job in jobs] == [(EMAIL_QUEUE, send_lock(held.id), {"email_id": held.id}, "todo")]
    (released,) = await outbox(session, order_id=placed.order.id)
    assert released.status == EmailStatus.QUEUED
    assert released.next_attempt_at is not None


async def test_staff_alert_is_mailed_once_per_topic_record_and_hour_with_a_link(engine, session, smtp_server):
    await factories.company_settings(session, email="ops@shop.example")
    uow = UnitOfWork(session)
    actor = Actor.worker("test")
    for _ in range(3):
        await alert_staff(uow, actor, AlertTopic.LINE_STUCK, "order-line", 41, message="SMP-1 line 1: stuck")
    await alert_staff(uow, actor, AlertTopic.LINE_STUCK, "order-line", 42, message="SMP-1 line 2: stuck")
    await alert_staff(uow, actor, AlertTopic.PROVIDER_BALANCE_LOW, "provider", 41, message="Sandbox: balance low")
    await session.commit()

    alerts = await outbox(session, kind=EmailKind.STAFF)
    assert len(alerts) == 3
    assert {alert.to_address for alert in alerts} == {"ops@shop.example"}
    first = alerts[0]
    assert await deliver(session_factory(engine), first.id, smtp_server.mailer()) == EmailStatus.SENT
    (received,) = smtp_server.received
    assert received.message["Subject"] == "[Alarm] SMP-1 line 1: stuck"
    assert "/admin/order-line/details/41>" in received.message.get_body(("plain",)).get_content()


async def test_rolled_back_alert_mails_nobody(session):
    await factories.company_settings(session)
    await session.commit()
    await alert_staff(UnitOfWork(session), Actor.worker("t"), AlertTopic.LINE_STUCK, "order-line", 1, message="m")
    await session.rollback()

    assert await outbox(session) == []


async def test_unknown_dispatch_alerts_staff_with_a_link_to_the_line(session):
    await factories.company_settings(session, email="ops@shop.example")
    order = await factories.paid_order(session)
    (line,) = order.lines
    await factories.move_line(session, line.id, LineStatus.DISPATCHING)

    await record_dispatch(
        UnitOfWork(session), line_id=line.id, actor=Actor.worker("t"), result=DispatchResult.UNKNOWN, note="timeout"
    )
    await session.commit()

    (alert,) = await outbox(session, kind=EmailKind.STAFF)
    assert alert.to_address == "ops@shop.example"
    assert alert.context["admin_url"].endswith(f"/admin/order-line/details/{line.id}")
    assert "dispatch unknown: timeout" in alert.subject


@pytest.mark.parametrize(("locale", "subject"), [("de", "ist abgeschlossen"), ("en", "is complete")])
async def test_completed_order_tells_the_client_through_the_sweep(engine, session, smtp_server, locale, subject):
    buyer = await factories.customer(session, email="anna@example.com", name="Anna Beispiel", locale=locale)
    order = await factories.paid_order(session, buyer=buyer)
    (line,) = order.lines
    await factories.move_line(
        session, line.id, LineStatus.DISPATCHING, LineStatus.DISPATCHED, LineStatus.COMPLETED, provider_order_id="77"
    )
    await session.commit()
    (completed,) = await outbox(session, template="order_completed")
    assert await send_jobs(session, completed.id) == []  # written by the lifecycle, which cannot defer a job

    assert await sweep_outbox(session_factory(engine)) == (1, 0)
    assert await deliver(session_factory(engine), completed.id, smtp_server.mailer()) == EmailStatus.SENT

    (received,) = smtp_server.received
    assert received.recipients == ["anna@example.com"]
    assert received.message["Subject"].endswith(subject)
    assert order.number in received.message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("locale", "subject"), [("de", "Ihr Zahlungslink"), ("en", "Your payment link")])
async def test_checkout_link_staff_email_arrives_with_a_working_pay_link(engine, session, smtp_server, locale, subject):
    buyer = await factories.customer(session, email="studio@example.com", name="Studio Kern", locale=locale)
    service = await factories.service(session, price="2.5000")
    created = await create_checkout_link(
        UnitOfWork(session),
        customer_id=buyer.id,
        items=[LineInput(service_id=service.id, link="@studio.kern", quantity=1000)],
        expires_at=utc_now() + timedelta(days=3),
        actor=factories.TEST_ACTOR,
        email_customer=True,
    )
    await session.commit()
    (mail,) = await outbox(session, template="checkout_link")

    assert await deliver(session_factory(engine), mail.id, smtp_server.mailer()) == EmailStatus.SENT

    (received,) = smtp_server.received
    assert received.recipients == ["studio@example.com"]
    assert received.message["Subject"].startswith(subject)
    text = received.message.get_body(("plain",)).get_content()
    url = re.search(r"/pay/([\w-]+)\?lang=(\w\w)>", text)
    assert url is not None, text
    assert (link_token_hash(url.group(1)), url.group(2)) == (created.link.token_hash, locale)


@pytest.mark.parametrize("invoiced", [True, False])
async def test_partial_delivery_tells_the_client_the_refund_amount_once_the_refund_went_through(
    engine, session, smtp_server, invoiced
):
    if invoiced:
        await factories.company_settings(session)
    buyer = await factories.customer(session, email="anna@example.com", name="Anna Beispiel", locale="en")
    order, payment = await factories.card_paid_order(session, lambda _order: "pi_partial_1", quantities=(1000,))
    order.customer_id = buyer.id
    await issue_invoice(UnitOfWork(session), order, factories.TEST_ACTOR)
    (line,) = order.lines
    await factories.move_line(session, line.id, LineStatus.DISPATCHING, LineStatus.DISPATCHED, provider_order_id="91")
    await session.commit()

    await record_progress(
        UnitOfWork(session),
        line_id=line.id,
        actor=Actor.worker("poll"),
        progress=UpstreamProgress(status=LineStatus.PARTIAL, start_count=0, remains=400),
    )
    await session.commit()
    (mail,) = await outbox(session, template="line_refund")
    refund = await session.scalar(sa.select(Refund).where(Refund.payment_id == payment.id))
    assert refund is not None
    assert mail.status == EmailStatus.HELD  # until the processor has answered
    result = gateway.Refund(
        id="re_partial_1", amount=refund.amount, currency="EUR", status="succeeded", payment_intent_id="pi_partial_1"
    )
    await record_refund_result(UnitOfWork(session), refund_id=refund.id, actor=factories.TEST_ACTOR, result=result)
    await session.commit()

    assert await deliver(session_factory(engine), mail.id, smtp_server.mailer()) == EmailStatus.SENT

    (received,) = smtp_server.received
    text = received.message.get_body(("plain",)).get_content()
    assert received.recipients == ["anna@example.com"]
    assert received.message["Subject"] == f"Order {order.number}: refund of {line.service_name}"
    assert "delivered 600 of 1,000" in text
    assert f"We are refunding €{refund.amount}" in text
    attachments = list(received.message.iter_attachments())
    credit = await session.scalar(sa.select(Invoice).where(Invoice.refund_id == refund.id))
    if invoiced:
        assert credit is not None
        assert [item.get_filename() for item in attachments] == [f"{credit.number}.pdf"]
        assert hashlib.sha256(attachments[0].get_content()).hexdigest() == credit.pdf_sha256
        assert f"Our credit note {credit.number} for this refund is attached." in text
    else:
        assert (credit, attachments) == (None, [])
        assert "credit note" not in text


async def test_an_invoice_sent_again_carries_its_stored_pdf(engine, session, smtp_server):
    await factories.company_settings(session)
    buyer = await factories.customer(session, email="anna@example.com", name="Anna Beispiel", locale="de")
    placed = await factories.place_order(session, buyer=buyer)
    await pay(session, placed.order)
    invoice = await session.scalar(sa.select(Invoice).where(Invoice.order_id == placed.order.id))
    assert invoice is not None

    assert await resend_invoices(UnitOfWork(session), [invoice.id], factories.TEST_ACTOR) == [invoice.number]
    await session.commit()
    (mail,) = await outbox(session, template="invoice_copy")
    assert await deliver(session_factory(engine), mail.id, smtp_server.mailer()) == EmailStatus.SENT

    (received,) = smtp_server.received
    assert received.recipients == ["anna@example.com"]
    assert received.message["Subject"] == f"{invoice.number}: Ihre Kopie"
    (attachment,) = received.message.iter_attachments()
    stored = await session.scalar(
        sa.select(Invoice.pdf_sha256).where(Invoice.id == invoice.id).execution_options(populate_existing=True)
    )
    assert hashlib.sha256(attachment.get_content()).hexdigest() == stored
    assert f"unsere Rechnung {invoice.number} noch einmal" in received.message.get_body(("plain",)).get_content()


async def test_an_invoice_of_an_erased_client_is_not_sent_again(session):
    await factories.company_settings(session)
    placed = await factories.place_order(session)
    await pay(session, placed.order)
    invoice = await session.scalar(sa.select(Invoice).where(Invoice.order_id == placed.order.id))
    assert invoice is not None
    customer = await session.get(Customer, invoice.customer_id)
    assert customer is not None
    customer.erased_at = utc_now()
    await session.commit()

    with pytest.raises(Conflict, match="erased client"):
        await resend_invoices(UnitOfWork(session), [invoice.id], factories.TEST_ACTOR)
    assert await outbox(session, template="invoice_copy") == []
