"""Erasure: the client asks, an admin confirms or declines; confirming pseudonymises the customer, scrubs the
trail of them (and only of them) and keeps invoices as issued."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.actors import Actor, ActorKind
from app.audit.models import AuditLog
from app.customers.commands import update_customer
from app.customers.models import Customer
from app.errors import DomainError, ValidationFailed
from app.gdpr.erasure import confirm_erasure, decline_erasure, request_erasure
from app.gdpr.models import ErasureRequest, ErasureStatus
from app.orders.models import EventKind, Order, OrderEvent
from app.payments.models import StripeEvent
from app.uow import UnitOfWork
from tests import factories
from tests.integration.gdpr.helpers import Client, client_with_an_order
from tests.integration.portal.conftest import csrf_of, log_in


async def admin_actor(session) -> Actor:
    staff = await factories.staff_user(session)
    return Actor.staff(staff.id, staff.email)


async def with_personal_trail(session, client: Client) -> None:
    """A note, an audit diff, a customer-labelled audit row and a Stripe event, each naming the client."""
    email, order = client.customer.email, client.order
    uow = UnitOfWork(session)
    session.add(
        OrderEvent(
            order_id=order.id,
            kind=EventKind.NOTE,
            actor_kind=ActorKind.CUSTOMER,
            actor_label=email,
            note=f"Please call {client.customer.name} ({email})",
            data={"email": email, "amount": "1.00"},
        )
    )
    await update_customer(
        uow, customer_id=client.customer.id, values={"email": email, "city": "Berlin"}, actor=Actor.cli()
    )
    uow.audit(Actor.customer(client.customer.id, email), "portal-login", "order", order.id)
    session.add(
        StripeEvent(
            id=f"evt_{order.id}",
            type="checkout.session.completed",
            payload={
                "id": f"evt_{order.id}",
                "type": "checkout.session.completed",
                "data": {
                    "object": {
                        "id": f"cs_{order.id}",
                        "amount_total": 1190,
                        "metadata": {"order_id": str(order.id)},
                        "customer_details": {"email": email, "name": client.customer.name},
                    }
                },
            },
        )
    )
    await session.flush()


async def rows_as_text(session, table: str, where: str = "true", **params: object) -> str:
    rows = await session.scalars(sa.text(f"SELECT t::text FROM {table} t WHERE {where} ORDER BY 1"), params)
    return "\n".join(rows)


async def trail_text(session, order_id: int) -> str:
    return "\n".join(
        [
            await rows_as_text(session, "order_event", "order_id = :order", order=order_id),
            await rows_as_text(session, "audit_log"),
            await rows_as_text(session, "stripe_event"),
        ]
    )


async def test_confirmed_erasure_pseudonymises_scrubs_only_that_client_and_keeps_invoices(session):
    await factories.company_settings(session)
    anna = await client_with_an_order(session, "Anna", finished=True)
    bernd = await client_with_an_order(session, "Bernd", finished=True)
    for client in (anna, bernd):
        await with_personal_trail(session, client)
    invoice_before = await rows_as_text(session, "invoice", "customer_id = :c", c=anna.customer.id)
    tracking_before = anna.order.tracking_token_hash
    await request_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=Actor.customer(anna.customer.id))
    admin = await admin_actor(session)

    done = await confirm_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=admin)
    await session.commit()

    assert not done.already_erased
    erased = await session.scalar(
        sa.select(Customer).where(Customer.id == anna.customer.id).execution_options(populate_existing=True)
    )
    assert erased is not None and erased.erased_at is not None
    assert erased.email == f"erased-{anna.customer.id}@invalid"
    assert (erased.name, erased.city, erased.notes) == (None, None, None)
    assert erased.portal_session_version == 1
    assert invoice_before is not None and "Anna Beispiel" in invoice_before
    assert await rows_as_text(session, "invoice", "customer_id = :c", c=anna.customer.id) == invoice_before
    order = await session.scalar(
        sa.select(Order).where(Order.id == anna.order.id).execution_options(populate_existing=True)
    )
    assert order is not None and order.tracking_token_hash != tracking_before
    anna_trail = await trail_text(session, anna.order.id)
    assert "anna@example.com" not in anna_trail and "Anna Beispiel" not in anna_trail
    note = await session.scalar(
        sa.select(OrderEvent).where(
            OrderEvent.order_id == anna.order.id,
            OrderEvent.kind == EventKind.NOTE,
            OrderEvent.actor_kind == ActorKind.CUSTOMER,
        )
    )
    assert note is not None and note.note == "[erased]" and note.data == {"amount": "1.00"}
    bernd_note = await session.scalar(
        sa.select(OrderEvent).where(
            OrderEvent.order_id == bernd.order.id,
            OrderEvent.kind == EventKind.NOTE,
            OrderEvent.actor_kind == ActorKind.CUSTOMER,
        )
    )
    assert bernd_note is not None and "bernd@example.com" in (bernd_note.note or "")
    bernd_event = await session.get(StripeEvent, f"evt_{bernd.order.id}")
    assert (
        bernd_event is not None
        and bernd_event.payload["data"]["object"]["customer_details"]["name"] == "Bernd Beispiel"
    )
    anna_event = await session.get(StripeEvent, f"evt_{anna.order.id}")
    assert anna_event is not None and anna_event.payload["data"]["object"] == {
        "id": f"cs_{anna.order.id}",
        "amount_total": 1190,
        "metadata": {"order_id": str(anna.order.id)},
    }
    erase = await session.scalar(sa.select(AuditLog).where(AuditLog.action == "erase"))
    assert erase is not None and erase.entity_id == str(anna.customer.id)
    assert set(erase.diff or {}) == {"request", "exports", "order_events", "audit_rows", "stripe_events"}
    assert erase.diff is not None and erase.diff["stripe_events"] == 1


async def test_the_trail_stays_append_only_outside_the_erasure(session):
    anna = await client_with_an_order(session, "Anna")
    await with_personal_trail(session, anna)
    await session.commit()
    events = OrderEvent.order_id == anna.order.id

    with pytest.raises(DBAPIError, match="append-only"):
        await session.execute(sa.update(OrderEvent).where(events).values(note=None))
    await session.rollback()
    await session.execute(sa.text("SELECT set_config('smplat.erasure', 'on', true)"))
    with pytest.raises(DBAPIError, match="append-only"):  # even then, only the scrubbable columns may change
        await session.execute(sa.update(OrderEvent).where(events).values(kind="status"))
    await session.rollback()
    await session.execute(sa.text("SELECT set_config('smplat.erasure', 'on', true)"))
    with pytest.raises(DBAPIError, match="append-only"):  # and no row may go
        await session.execute(sa.delete(OrderEvent).where(events))
    await session.rollback()


async def test_confirming_twice_erases_once(session):
    anna = await client_with_an_order(session, "Anna", finished=True)
    await request_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=Actor.customer(anna.customer.id))
    admin = await admin_actor(session)

    first = await confirm_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=admin)
    second = await confirm_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=admin)
    await session.commit()

    assert (first.already_erased, second.already_erased) == (False, True)
    assert await session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "erase")) == 1


async def test_erasure_is_refused_while_an_order_is_open_and_nothing_changes(session):
    anna = await client_with_an_order(session, "Anna")  # paid, not yet delivered
    await request_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=Actor.customer(anna.customer.id))
    await session.commit()
    number, customer_id = anna.order.number, anna.customer.id

    with pytest.raises(DomainError, match=number):
        await confirm_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=await admin_actor(session))
    await session.rollback()

    customer = await session.get(Customer, customer_id, populate_existing=True)
    assert customer is not None and customer.erased_at is None and customer.email == "anna@example.com"


async def test_a_declined_request_keeps_the_customer_and_records_the_reason(session):
    anna = await client_with_an_order(session, "Anna", finished=True)
    await request_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=Actor.customer(anna.customer.id))
    admin = await admin_actor(session)

    with pytest.raises(ValidationFailed):
        await decline_erasure(UnitOfWork(session), customer_id=anna.customer.id, reason="  ", actor=admin)
    declined = await decline_erasure(
        UnitOfWork(session), customer_id=anna.customer.id, reason="Open chargeback", actor=admin
    )
    await session.commit()

    assert (declined.status, declined.reason) == (ErasureStatus.DECLINED, "Open chargeback")
    assert declined.decided_by is not None
    customer = await session.get(Customer, anna.customer.id, populate_existing=True)
    assert customer is not None and customer.erased_at is None
    with pytest.raises(DomainError):
        await confirm_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=admin)


async def test_the_client_requests_erasure_in_the_portal_and_the_confirmed_erasure_ends_the_session(client, session):
    anna = await client_with_an_order(session, "Anna", finished=True)
    await session.commit()
    await log_in(client, session, anna.customer.email)
    csrf = csrf_of((await client.get("/portal/privacy/erasure")).text)

    asked = await client.post("/portal/privacy/erasure", data={"csrf_token": csrf}, follow_redirects=False)
    again = await client.post("/portal/privacy/erasure", data={"csrf_token": csrf}, follow_redirects=False)

    assert asked.status_code == again.status_code == 303
    requests = list(await session.scalars(sa.select(ErasureRequest)))
    assert [(r.customer_id, r.status) for r in requests] == [(anna.customer.id, ErasureStatus.REQUESTED)]
    assert 'data-testid="erasure-open"' in (await client.get("/portal/privacy")).text
    await confirm_erasure(UnitOfWork(session), customer_id=anna.customer.id, actor=await admin_actor(session))
    await session.commit()
    assert (await client.get("/portal/privacy", follow_redirects=False)).headers["location"] == "/portal"
