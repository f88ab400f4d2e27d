"""A logged-in client sees their own orders, documents and subscriptions, and nothing of another client's: every
URL that names one answers 404 for someone else's, like for one that does not exist."""

from __future__ import annotations

from decimal import Decimal

from app.catalog.models import ServiceKind
from app.invoicing.models import Invoice
from app.payments.models import Subscription, SubscriptionStatus
from app.uow import UnitOfWork
from tests import factories
from tests.integration.invoicing.helpers import invoices_of, pay
from tests.integration.portal.conftest import csrf_of, log_in


async def client_with_everything(session, email: str) -> tuple[str, Invoice, Subscription]:
    """A client with a paid order (and its invoice) and a subscription: (order number, invoice, subscription)."""
    name = email.split("@", maxsplit=1)[0]
    buyer = await factories.customer(session, email=email, locale="en")
    order = (await factories.place_order(session, buyer=buyer)).order
    await pay(UnitOfWork(session), order)
    (invoice,) = await invoices_of(session, order.id)
    service = await factories.service(session, kind=ServiceKind.SUBSCRIPTION, price="29.0000", min_quantity=1)
    subscription = Subscription(
        customer_id=buyer.id,
        service_id=service.id,
        status=SubscriptionStatus.ACTIVE,
        target_username=f"{name}.studio",
        price=Decimal("34.51"),
        stripe_subscription_id=f"sub_{name}",
    )
    session.add(subscription)
    await session.flush()
    return order.number, invoice, subscription


async def test_a_client_reaches_their_own_pages_and_gets_404_for_every_page_of_another_client(client, session):
    await factories.company_settings(session)
    own_number, own_invoice, own_subscription = await client_with_everything(session, "anna@example.com")
    other_number, other_invoice, other_subscription = await client_with_everything(session, "ben@example.com")
    await session.commit()
    await log_in(client, session, "anna@example.com")
    home = await client.get("/portal")
    csrf = csrf_of(home.text)

    assert own_number in home.text and own_invoice.number in home.text and "anna.studio" in home.text
    assert other_number not in home.text and other_invoice.number not in home.text and "ben.studio" not in home.text
    own_order = await client.get(f"/portal/orders/{own_number}")
    assert own_order.status_code == 200 and own_invoice.number in own_order.text
    own_manage = await client.post(
        f"/portal/subscriptions/{own_subscription.id}/manage", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert own_manage.status_code == 303  # no processor account in this test: back to the overview
    own_pdf = await client.get(f"/portal/documents/{own_invoice.number}.pdf")
    assert own_pdf.status_code == 200 and own_pdf.content.startswith(b"%PDF")
    assert own_pdf.headers["content-type"] == "application/pdf"

    others = [
        await client.get(f"/portal/orders/{other_number}"),
        await client.get(f"/portal/documents/{other_invoice.number}.pdf"),
        await client.get(f"/portal/documents/{other_invoice.number}"),
        await client.post(f"/portal/subscriptions/{other_subscription.id}/manage", data={"csrf_token": csrf}),
        await client.get("/portal/orders/SMP-2026-999999"),
        await client.get("/portal/documents/RE-2026-999999.pdf"),
    ]
    assert [answer.status_code for answer in others] == [404] * len(others)
    assert all(other_number not in answer.text and "ben.studio" not in answer.text for answer in others)


async def test_portal_pages_send_a_logged_out_visitor_to_the_login_form(client, session):
    await factories.company_settings(session)
    number, invoice, subscription = await client_with_everything(session, "anna@example.com")
    await session.commit()

    answers = [
        await client.get(f"/portal/orders/{number}", follow_redirects=False),
        await client.get(f"/portal/documents/{invoice.number}.pdf", follow_redirects=False),
        await client.get("/portal/profile", follow_redirects=False),
        await client.post(f"/portal/subscriptions/{subscription.id}/manage", follow_redirects=False),
    ]

    assert [(answer.status_code, answer.headers.get("location")) for answer in answers] == [(303, "/portal")] * 4


async def test_the_order_page_offers_the_line_again_with_its_link_and_quantity(client, session):
    service = await factories.service(session, slug="insta-likes")
    buyer = await factories.customer(session, locale="en")
    placed = await factories.place_order(
        session, buyer=buyer, items=[(service, 1500, "https://www.instagram.com/p/C0ffee/")]
    )
    await session.commit()
    await log_in(client, session, buyer.email)

    page = await client.get(f"/portal/orders/{placed.order.number}")

    expected = "/services/insta-likes?link=https%3A%2F%2Fwww.instagram.com%2Fp%2FC0ffee%2F&amp;quantity=1500"
    assert page.status_code == 200 and expected in page.text
    form = await client.get(expected.replace("&amp;", "&"))
    assert 'value="https://www.instagram.com/p/C0ffee/"' in form.text and 'value="1500"' in form.text
