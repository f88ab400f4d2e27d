"""The fake's hosted pages: Checkout says plainly that no money moves; Pay delivers signed webhooks, then redirects."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from app.payments.gateway import CheckoutItem

from .conftest import WebhookReceiver, checkout_request


@pytest.fixture
def browser(fake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, follow_redirects=False, timeout=10) as client:
        yield client


async def test_checkout_page_shows_the_demo_banner_items_and_total_in_german(gateway, browser):
    session = await gateway.create_checkout(checkout_request("2001"))

    page = browser.get(f"/checkout/{session.id}")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Demo-Zahlung — es fließt kein Geld" in html
    assert "2 × 1000 Instagram likes" in html
    assert "24,68\xa0€" in html
    assert f'action="/checkout/{session.id}/pay"' in html
    assert f'action="/checkout/{session.id}/cancel"' in html
    assert "<script" not in html
    assert "http" not in html.split("<main>")[0].replace('name="viewport"', "")  # no external assets in the head


async def test_checkout_page_speaks_english_for_an_english_session(gateway, browser):
    session = await gateway.create_checkout(checkout_request("2002", locale="en"))
    html = browser.get(f"/checkout/{session.id}").text
    assert "Demo payment — no money moves" in html
    assert "€24.68" in html
    assert ">Pay €24.68<" in html


async def test_pay_delivers_a_signed_webhook_and_redirects_to_the_success_url(
    gateway, fake, browser, receiver: WebhookReceiver
):
    session = await gateway.create_checkout(checkout_request("2003"))

    answer = browser.post(f"/checkout/{session.id}/pay")

    assert answer.status_code == 303
    assert answer.headers["location"] == f"http://shop.test/checkout/success?session_id={session.id}"
    (delivered,) = receiver.received
    event = gateway.parse_webhook(delivered.body, delivered.signature)
    assert event.type == "checkout.session.completed"
    assert event.object["id"] == session.id
    assert event.object["payment_status"] == "paid"
    assert event.object["client_reference_id"] == "2003"
    assert event.object["metadata"]["order_id"] == "2003"
    assert event.object["payment_intent"].startswith("pi_")
    assert event.object["amount_total"] == 2468
    assert fake.deliveries[0].ok


async def test_paying_twice_charges_once(gateway, fake, browser, receiver):
    session = await gateway.create_checkout(checkout_request("2004"))
    browser.post(f"/checkout/{session.id}/pay")

    again = browser.post(f"/checkout/{session.id}/pay")

    assert again.status_code == 409
    assert "nicht mehr offen" in again.text
    assert len(fake.payment_intents) == 1
    assert len(receiver.received) == 1


async def test_cancel_returns_to_the_shop_and_leaves_the_session_open(gateway, fake, browser, receiver):
    session = await gateway.create_checkout(checkout_request("2005"))

    answer = browser.post(f"/checkout/{session.id}/cancel")

    assert answer.status_code == 303
    assert answer.headers["location"] == "http://shop.test/checkout/cancel"
    assert fake.sessions[session.id]["status"] == "open"
    assert receiver.received == []


async def test_paying_a_subscription_announces_the_session_and_the_paid_invoice(gateway, fake, browser, receiver):
    items = (CheckoutItem("Auto likes", Decimal("29.00")),)
    session = await gateway.create_checkout(checkout_request("2006", items=items, recurring_interval="month"))
    assert "pro Monat" in browser.get(f"/checkout/{session.id}").text

    browser.post(f"/checkout/{session.id}/pay")

    completed, invoice_paid = (gateway.parse_webhook(item.body, item.signature) for item in receiver.received)
    assert completed.type == "checkout.session.completed"
    assert invoice_paid.type == "invoice.paid"
    subscription_id = completed.object["subscription"]
    invoice = invoice_paid.object
    assert invoice["id"] == completed.object["invoice"]
    assert (invoice["amount_paid"], invoice["currency"], invoice["billing_reason"]) == (
        2900,
        "eur",
        "subscription_create",
    )
    details = invoice["parent"]["subscription_details"]
    assert details["subscription"] == subscription_id
    assert details["metadata"]["order_id"] == "2006"
    intent_id = invoice["payments"]["data"][0]["payment"]["payment_intent"]
    assert fake.payment_intents[intent_id]["amount"] == 2900
    assert "_description" not in str(invoice)


async def test_renewal_announces_a_new_paid_invoice_for_the_next_period(gateway, fake, receiver):
    items = (CheckoutItem("Auto likes", Decimal("29.00")),)
    session = await gateway.create_checkout(checkout_request("2007", items=items, recurring_interval="month"))
    fake.pay(session.id)
    subscription_id = fake.sessions[session.id]["subscription"]
    first_end = fake.subscriptions[subscription_id]["items"]["data"][0]["current_period_end"]
    receiver.received.clear()

    fake.renew_subscription(subscription_id)

    assert receiver.types() == ["customer.subscription.updated", "invoice.paid"]
    invoice = receiver.received[1].event["data"]["object"]
    assert invoice["billing_reason"] == "subscription_cycle"
    assert invoice["lines"]["data"][0]["period"]["start"] == first_end


async def test_declined_renewal_makes_the_subscription_past_due(gateway, fake, receiver):
    items = (CheckoutItem("Auto likes", Decimal("29.00")),)
    session = await gateway.create_checkout(checkout_request("2008", items=items, recurring_interval="month"))
    fake.pay(session.id)
    subscription_id = fake.sessions[session.id]["subscription"]
    receiver.received.clear()

    fake.renew_subscription(subscription_id, paid=False)

    assert receiver.types() == ["customer.subscription.updated", "invoice.payment_failed"]
    updated = receiver.received[0].event["data"]
    assert (updated["object"]["status"], updated["previous_attributes"]["status"]) == ("past_due", "active")


async def test_portal_page_cancels_a_subscription_and_announces_it(gateway, fake, browser, receiver):
    items = (CheckoutItem("Auto likes", Decimal("29.00")),)
    session = await gateway.create_checkout(checkout_request("2009", items=items, recurring_interval="month"))
    fake.pay(session.id)
    paid = fake.sessions[session.id]
    url = await gateway.portal_url(customer_id=paid["customer"], return_url="http://shop.test/portal")
    receiver.received.clear()

    page = browser.get(url.removeprefix(fake.base_url))
    assert page.status_code == 200
    assert "Auto likes" in page.text
    assert 'href="http://shop.test/portal"' in page.text
    answer = browser.post(f"{url.removeprefix(fake.base_url)}/cancel/{paid['subscription']}")

    assert answer.status_code == 303
    assert receiver.types() == ["customer.subscription.deleted"]
    assert fake.subscriptions[paid["subscription"]]["status"] == "canceled"


async def test_failed_delivery_is_retried_until_the_receiver_accepts(gateway, fake, browser, receiver):
    receiver.statuses[:] = [500, 503]
    session = await gateway.create_checkout(checkout_request("2010"))

    answer = browser.post(f"/checkout/{session.id}/pay")

    assert answer.status_code == 303
    assert len(receiver.received) == 3
    assert len({item.event["id"] for item in receiver.received}) == 1
    assert (fake.deliveries[-1].attempts, fake.deliveries[-1].status) == (3, 200)


async def test_unreachable_receiver_does_not_stop_the_payment(gateway, fake, browser):
    fake.webhook_url = "http://127.0.0.1:9/unreachable"
    session = await gateway.create_checkout(checkout_request("2011"))

    answer = browser.post(f"/checkout/{session.id}/pay")

    assert answer.status_code == 303
    assert fake.sessions[session.id]["payment_status"] == "paid"
    assert fake.deliveries[-1].status is None
    assert fake.deliveries[-1].error


async def test_events_can_be_delivered_out_of_order_and_made_up(gateway, fake, receiver):
    session = await gateway.create_checkout(checkout_request("2012"))
    (completed,) = fake.pay(session.id, deliver=False)
    dispute = fake.event("charge.dispute.created", {"id": "dp_1", "object": "dispute", "amount": 2468})

    assert fake.deliver(dispute).status_code == 200
    assert fake.deliver(completed).status_code == 200

    assert receiver.types() == ["charge.dispute.created", "checkout.session.completed"]
    assert [event["type"] for event in fake.events] == ["checkout.session.completed"]


def test_unknown_pages_are_404(browser):
    assert browser.get("/checkout/cs_test_missing").status_code == 404
    assert browser.get("/nothing").status_code == 404
