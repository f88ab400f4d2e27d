"""A webhook event whose handling fails: answered 500 (Stripe delivers it again), kept with its error, and staff
are alerted once per event and hour with a link to it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.models import EmailKind, EmailOutbox
from app.payments import webhooks
from app.payments.models import StripeEvent
from app.sandbox import FakeStripe
from app.uow import UnitOfWork
from tests import factories


async def test_a_failing_event_is_kept_and_alerts_staff_once(
    shop: AsyncTestClient[Litestar], fake_stripe: FakeStripe, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
):
    await factories.company_settings(session, email="ops@shop.example")
    await session.commit()

    async def broken(uow: UnitOfWork, event: Any) -> None:
        raise KeyError("lines")

    monkeypatch.setitem(webhooks.HANDLERS, "invoice.paid", broken)
    event = fake_stripe.event("invoice.paid", {"id": "in_broken_1", "object": "invoice"})
    body, headers = fake_stripe.signed_request(event)
    for _ in range(2):  # Stripe's redelivery
        response = await shop.post("/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 500

    stored = await session.scalar(
        sa.select(StripeEvent).where(StripeEvent.id == event["id"]).execution_options(populate_existing=True)
    )
    assert stored is not None and stored.processed_at is None
    assert stored.error == "KeyError: 'lines'"
    (alert,) = await session.scalars(sa.select(EmailOutbox).where(EmailOutbox.kind == EmailKind.STAFF))
    assert alert.to_address == "ops@shop.example"
    assert alert.context["admin_url"].endswith(f"/admin/stripe-event/details/{event['id']}")
