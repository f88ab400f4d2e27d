"""Checkout links: created through the command, visited and paid over HTTP with the real Stripe SDK against the fake
Stripe, on real PostgreSQL; expiry, reuse, tampering, withdrawal and price overrides."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.actors import Actor
from app.audit.models import AuditLog
from app.catalog.models import Service
from app.customers.models import Customer
from app.db.engine import session_factory
from app.errors import ValidationFailed
from app.orders.models import Order, OrderSource
from app.orders.placing import LineInput
from app.orders.states import OrderStatus, PaymentStatus
from app.payments.links import CreatedLink, create_checkout_link, deactivate_checkout_link, link_token_hash
from app.payments.models import CheckoutLink
from app.sandbox import FakeStripe
from app.uow import unit_of_work
from tests import factories
from tests.integration.payments.conftest import SAME_ORIGIN

PROFILE = "https://www.instagram.com/lena.schmidt/"


@pytest.fixture
async def service(session: AsyncSession) -> Service:
    made = await factories.service(session, price="2.5000")
    made.name_de, made.name_en = "Instagram-Follower", "Instagram followers"
    await factories.company_settings(session)
    await session.commit()
    return made


@pytest.fixture
async def staff(session: AsyncSession) -> Actor:
    user = await factories.staff_user(session, email="anna@smplat.test")
    await session.commit()
    return Actor.staff(user.id, user.email)


@pytest.fixture
async def customer(session: AsyncSession) -> Customer:
    made = await factories.customer(session, email="lena@example.com", locale="en")
    await session.commit()
    return made


async def make_link(
    engine: AsyncEngine,
    staff: Actor,
    customer: Customer,
    items: list[LineInput],
    *,
    expires_in: timedelta = timedelta(days=7),
    max_uses: int = 1,
    override_reason: str | None = None,
) -> CreatedLink:
    async with unit_of_work(session_factory(engine)) as uow:
        return await create_checkout_link(
            uow,
            customer_id=customer.id,
            items=items,
            expires_at=datetime.now(UTC) + expires_in,
            max_uses=max_uses,
            note="agreed on the phone",
            override_reason=override_reason,
            actor=staff,
        )


async def orders(session: AsyncSession) -> list[Order]:
    rows = await session.scalars(sa.select(Order).execution_options(populate_existing=True).order_by(Order.id))
    return list(rows.unique().all())


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def visit_key(page: str) -> str:
    match = re.search(r'name="visit" value="([^"]+)"', page)
    assert match, "no visit key on the pay page"
    return match.group(1)


# -- the command -------------------------------------------------------------------------------------------------


async def test_a_new_link_stores_only_the_hash_of_its_256_bit_token(
    engine: AsyncEngine, staff: Actor, session: AsyncSession, service: Service, customer: Customer
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])

    stored = await session.get(CheckoutLink, created.link.id)
    assert stored is not None
    assert len(created.token) >= 43  # 32 random bytes, base64url
    assert stored.token_hash == link_token_hash(created.token) != created.token
    assert stored.items == [
        {
            "service_id": service.id,
            "link": PROFILE,
            "quantity": 1000,
            "comments": None,
            "runs": None,
            "interval_minutes": None,
            "unit_price": None,
        }
    ]
    assert stored.currency == "EUR" and stored.max_uses == 1 and stored.is_active
    (entry,) = (await session.scalars(sa.select(AuditLog).where(AuditLog.entity_type == "checkout_link"))).all()
    assert (entry.action, entry.actor_label) == ("create", "anna@smplat.test")
    assert created.token not in str(entry.diff)


async def test_a_price_override_without_a_reason_is_refused_and_nothing_is_stored(
    engine: AsyncEngine, staff: Actor, session: AsyncSession, service: Service, customer: Customer
):
    with pytest.raises(ValidationFailed) as refused:
        await make_link(engine, staff, customer, [LineInput(service.id, "@lena", 1000, unit_price=Decimal("1.9000"))])

    assert set(refused.value.errors) == {"override_reason"}
    assert await count(session, CheckoutLink) == 0


@pytest.mark.parametrize(
    ("items", "changes", "field"),
    [
        ([], {}, "lines"),
        ([LineInput(0, "@lena", 1000)], {}, "lines[0].quantity"),  # quantity below the service's minimum
        ([LineInput(0, "not a link at all!", 1000)], {}, "lines[0].link"),
        ([LineInput(0, "@lena", 1000)], {"expires_in": timedelta(minutes=-1)}, "expires_at"),
        ([LineInput(0, "@lena", 1000)], {"max_uses": 0}, "max_uses"),
    ],
    ids=["no-lines", "quantity", "link", "expiry-in-the-past", "max-uses"],
)
async def test_bad_link_input_is_refused_per_field(
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
    items,
    changes,
    field,
):
    items = [LineInput(service.id, i.link, 10 if field == "lines[0].quantity" else i.quantity) for i in items]
    with pytest.raises(ValidationFailed) as refused:
        await make_link(engine, staff, customer, items, **changes)

    assert field in refused.value.errors
    assert await count(session, CheckoutLink) == 0


# -- visiting and paying -----------------------------------------------------------------------------------------


async def test_a_client_opens_the_link_pays_and_the_order_is_paid_and_belongs_to_the_link(
    shop: AsyncTestClient[Litestar],
    fake_stripe: FakeStripe,
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])

    page = await shop.get(f"/pay/{created.token}")

    assert page.status_code == 200
    assert "Instagram followers" in page.text  # the client's language (stored: English)
    assert PROFILE in page.text and "€2.98" in page.text  # 2.50 net + 19 % VAT for a German consumer
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-robots-tag"] == "noindex"
    german = await shop.get(f"/pay/{created.token}?lang=de")
    assert "Instagram-Follower" in german.text and "Ihr Angebot" in german.text

    sent = await shop.post(
        f"/pay/{created.token}", data={"visit": visit_key(page.text)}, headers=SAME_ORIGIN, follow_redirects=False
    )

    assert sent.status_code == 303
    session_id = re.search(r"/checkout/(cs_[A-Za-z0-9_]+)", sent.headers["location"]).group(1)  # type: ignore[union-attr]
    assert fake_stripe.sessions[session_id]["amount_total"] == 298
    (order,) = await orders(session)
    assert (order.source, order.checkout_link_id, order.status) == (
        OrderSource.LINK,
        created.link.id,
        OrderStatus.PENDING_PAYMENT,
    )
    assert order.customer_id == customer.id
    for event in fake_stripe.pay(session_id, deliver=False):
        body, headers = fake_stripe.signed_request(event)
        assert (await shop.post("/webhooks/stripe", content=body, headers=headers)).status_code == 200
    (order,) = await orders(session)
    assert (order.status, order.payment_status) == (OrderStatus.PAID, PaymentStatus.PAID)

    again = await shop.get(f"/pay/{created.token}")
    assert again.status_code == 410 and "already been used" in again.text


async def test_the_overridden_price_is_charged_and_audited_with_who_old_new_and_why(
    shop: AsyncTestClient[Litestar],
    fake_stripe: FakeStripe,
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(
        engine,
        staff,
        customer,
        [LineInput(service.id, "@lena.schmidt", 2000, unit_price=Decimal("1.5000"))],
        override_reason="loyalty discount",
    )
    page = await shop.get(f"/pay/{created.token}")
    sent = await shop.post(
        f"/pay/{created.token}", data={"visit": visit_key(page.text)}, headers=SAME_ORIGIN, follow_redirects=False
    )

    (order,) = await orders(session)
    (line,) = order.lines
    assert (line.unit_price, line.net, order.gross) == (Decimal("1.5000"), Decimal("3.00"), Decimal("3.57"))
    session_id = sent.headers["location"].rsplit("/", 1)[-1]
    assert fake_stripe.sessions[session_id]["amount_total"] == 357
    (audit,) = (await session.scalars(sa.select(AuditLog).where(AuditLog.action == "override-price"))).all()
    assert audit.actor_label == "anna@smplat.test"
    assert audit.entity_id == str(created.link.id)
    assert audit.diff is not None
    assert (audit.diff["old_price"], audit.diff["new_price"], audit.diff["reason"]) == (
        "2.5000",
        "1.5000",
        "loyalty discount",
    )


async def test_ten_concurrent_payers_of_a_one_use_link_place_exactly_one_order(
    shop: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])

    sent = await asyncio.gather(
        *(
            shop.post(
                f"/pay/{created.token}", data={"visit": f"visit-{n}"}, headers=SAME_ORIGIN, follow_redirects=False
            )
            for n in range(10)
        )
    )

    assert {response.status_code for response in sent} == {303}  # every payer reaches a checkout for that order
    (order,) = await orders(session)
    assert order.checkout_link_id == created.link.id


async def test_a_paid_one_use_link_refuses_another_order(
    shop: AsyncTestClient[Litestar],
    fake_stripe: FakeStripe,
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])
    first = await shop.post(f"/pay/{created.token}", data={"visit": "a"}, headers=SAME_ORIGIN, follow_redirects=False)
    fake_stripe.pay(first.headers["location"].rsplit("/", 1)[-1], deliver=False)
    async with unit_of_work(session_factory(engine)) as uow:
        await uow.session.execute(sa.update(Order).values(status=OrderStatus.PAID, payment_status=PaymentStatus.PAID))

    second = await shop.post(f"/pay/{created.token}", data={"visit": "b"}, headers=SAME_ORIGIN, follow_redirects=False)

    assert second.status_code == 410 and "bereits verwendet" in second.text  # the visitor's language (none: German)
    assert len(await orders(session)) == 1


async def test_a_second_visit_to_an_unpaid_link_gets_a_fresh_checkout_for_the_same_order(
    shop: AsyncTestClient[Litestar],
    fake_stripe: FakeStripe,
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])
    first = await shop.post(f"/pay/{created.token}", data={"visit": "a"}, headers=SAME_ORIGIN, follow_redirects=False)
    page = await shop.get(f"/pay/{created.token}")
    second = await shop.post(f"/pay/{created.token}", data={"visit": "b"}, headers=SAME_ORIGIN, follow_redirects=False)

    assert page.status_code == 200
    assert second.status_code == 303 and second.headers["location"] != first.headers["location"]
    (order,) = await orders(session)
    assert {s["metadata"]["order_id"] for s in fake_stripe.sessions.values()} == {str(order.id)}


async def test_a_multi_use_link_places_one_order_per_visit_up_to_its_limit(
    shop: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)], max_uses=2)
    for visit in ("a", "a", "b"):
        response = await shop.post(
            f"/pay/{created.token}", data={"visit": visit}, headers=SAME_ORIGIN, follow_redirects=False
        )
        assert response.status_code == 303
    assert [o.checkout_link_id for o in await orders(session)] == [created.link.id, created.link.id]


async def test_an_expired_link_shows_a_friendly_gone_page_and_places_nothing(
    shop: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])
    async with unit_of_work(session_factory(engine)) as uow:
        await uow.session.execute(sa.update(CheckoutLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    page = await shop.get(f"/pay/{created.token}")
    sent = await shop.post(f"/pay/{created.token}", data={"visit": "a"}, headers=SAME_ORIGIN, follow_redirects=False)

    assert page.status_code == sent.status_code == 410
    assert "has expired" in page.text and 'data-testid="link-unavailable"' in page.text
    assert page.headers["referrer-policy"] == "same-origin"
    assert await count(session, Order) == 0


@pytest.mark.parametrize("tamper", ["flip", "truncate", "unknown", "huge"])
async def test_a_tampered_or_unknown_token_is_a_friendly_404(
    shop: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
    tamper: str,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])
    token = {
        "flip": created.token[:-1] + ("A" if created.token[-1] != "A" else "B"),
        "truncate": created.token[:20],
        "unknown": "x" * 43,
        "huge": "y" * 5000,
    }[tamper]

    page = await shop.get(f"/pay/{token}")
    sent = await shop.post(f"/pay/{token}", data={"visit": "a"}, headers=SAME_ORIGIN, follow_redirects=False)

    assert page.status_code == sent.status_code == 404
    assert 'data-testid="link-unavailable"' in page.text and "ungültig" in page.text  # a visitor we know nothing of
    assert page.headers["x-robots-tag"] == "noindex"
    assert await count(session, Order) == 0


async def test_a_deactivated_link_is_refused_and_the_deactivation_audited(
    shop: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])
    async with unit_of_work(session_factory(engine)) as uow:
        await deactivate_checkout_link(uow, link_id=created.link.id, actor=staff)

    page = await shop.get(f"/pay/{created.token}")
    sent = await shop.post(f"/pay/{created.token}", data={"visit": "a"}, headers=SAME_ORIGIN, follow_redirects=False)

    assert page.status_code == sent.status_code == 410
    assert "withdrawn" in page.text
    assert await count(session, Order) == 0
    actions = (await session.scalars(sa.select(AuditLog.action).where(AuditLog.entity_type == "checkout_link"))).all()
    assert sorted(actions) == ["create", "deactivate"]


async def test_a_pay_form_sent_from_another_site_is_refused(
    shop: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])

    sent = await shop.post(
        f"/pay/{created.token}",
        data={"visit": "a"},
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        follow_redirects=False,
    )

    assert sent.status_code == 403
    assert await count(session, Order) == 0


async def test_a_link_whose_service_was_withdrawn_says_so_instead_of_failing(
    shop: AsyncTestClient[Litestar],
    engine: AsyncEngine,
    staff: Actor,
    session: AsyncSession,
    service: Service,
    customer: Customer,
):
    created = await make_link(engine, staff, customer, [LineInput(service.id, "@lena.schmidt", 1000)])
    async with unit_of_work(session_factory(engine)) as uow:
        await uow.session.execute(sa.update(Service).values(is_active=False))

    page = await shop.get(f"/pay/{created.token}")
    sent = await shop.post(f"/pay/{created.token}", data={"visit": "a"}, headers=SAME_ORIGIN, follow_redirects=False)

    assert page.status_code == sent.status_code == 410
    assert await count(session, Order) == 0
