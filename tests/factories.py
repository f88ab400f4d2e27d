"""Builders for test data, going through the domain services wherever a service owns the rule."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import passwords
from app.accounts.models import Role, StaffUser
from app.actors import Actor
from app.catalog.models import Category, Platform, Service, ServiceKind
from app.company.commands import save_company_settings
from app.company.models import CompanySettings
from app.customers import commands as customer_commands
from app.customers.models import Customer
from app.demo.catalog import COMPANY
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.invoicing.tax import TaxDecision
from app.orders import commands, lifecycle
from app.orders.commands import PlacedOrder
from app.orders.models import Order, OrderLine, OrderSource
from app.orders.placing import LineInput
from app.orders.states import LineStatus
from app.payments.models import Payment, PaymentMethod, PaymentRecordStatus, Refund, RefundStatus
from app.uow import UnitOfWork

_seq = itertools.count(1)
STAFF_PASSWORD = "correct horse battery"
TEST_ACTOR = Actor.system("test")


async def category(session: AsyncSession, *, platform: Platform = Platform.INSTAGRAM, **values: object) -> Category:
    n = next(_seq)
    row = Category(slug=f"cat-{n}", platform=platform, name_de=f"Kategorie {n}", name_en=f"Category {n}", **values)
    session.add(row)
    await session.flush()
    return row


async def provider(session: AsyncSession, **values: object) -> Provider:
    n = next(_seq)
    defaults: dict[str, object] = {
        "name": f"Provider {n}",
        "kind": ProviderKind.SMM_V2,
        "api_url": "http://127.0.0.1:9/api/v2",
        "api_key": f"key-{n}",
    }
    row = Provider(**{**defaults, **values})
    session.add(row)
    await session.flush()
    return row


async def provider_service(session: AsyncSession, upstream: Provider, **values: object) -> ProviderService:
    n = next(_seq)
    defaults: dict[str, object] = {
        "external_id": str(n),
        "name": f"Upstream {n}",
        "rate": Decimal("0.9000"),
        "min_quantity": 10,
        "max_quantity": 100000,
    }
    row = ProviderService(provider_id=upstream.id, **{**defaults, **values})
    session.add(row)
    await session.flush()
    return row


async def service(
    session: AsyncSession,
    *,
    kind: ServiceKind = ServiceKind.DEFAULT,
    price: str = "2.5000",
    min_quantity: int = 100,
    max_quantity: int = 10000,
    platform: Platform = Platform.INSTAGRAM,
    upstream: ProviderService | None = None,
    **values: object,
) -> Service:
    n = next(_seq)
    cat = await category(session, platform=platform)
    defaults: dict[str, object] = {"slug": f"service-{n}", "name_de": f"Dienst {n}", "name_en": f"Service {n}"}
    row = Service(
        category_id=cat.id,
        kind=kind,
        price=Decimal(price),
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        provider_service_id=upstream.id if upstream else None,
        **{**defaults, **values},
    )
    session.add(row)
    await session.flush()
    return await reload_service(session, row.id)


async def reload_service(session: AsyncSession, service_id: int) -> Service:
    loaded = await session.scalar(
        sa.select(Service).where(Service.id == service_id).execution_options(populate_existing=True)
    )
    assert loaded is not None
    return loaded


async def customer(session: AsyncSession, **values: str) -> Customer:
    n = next(_seq)
    defaults = {"email": f"customer{n}@example.com", "name": f"Customer {n}"}
    return await customer_commands.create_customer(UnitOfWork(session), values={**defaults, **values}, actor=TEST_ACTOR)


async def place_order(
    session: AsyncSession,
    *,
    buyer: Customer | None = None,
    items: list[tuple[Service, int, str]] | None = None,
    idempotency_key: str | None = None,
) -> PlacedOrder:
    buyer = buyer or await customer(session)
    if items is None:
        items = [(await service(session), 1000, f"https://www.instagram.com/p/post{next(_seq)}/")]
    return await commands.place_order(
        UnitOfWork(session),
        customer_id=buyer.id,
        items=[LineInput(service_id=s.id, quantity=q, link=link) for s, q, link in items],
        source=OrderSource.ADMIN,
        actor=TEST_ACTOR,
        tax=TaxDecision.domestic(),
        idempotency_key=idempotency_key,
    )


async def paid_order(session: AsyncSession, **kwargs: object) -> Order:
    placed = await place_order(session, **kwargs)  # type: ignore[arg-type]
    return await commands.mark_paid(UnitOfWork(session), order_id=placed.order.id, actor=TEST_ACTOR)


async def card_paid_order(
    session: AsyncSession, charge: Callable[[Order], str], *, quantities: tuple[int, ...] = (1000, 3000)
) -> tuple[Order, Payment]:
    """A paid order (one line per quantity, 2.50 per 1000, 19 % VAT) with its succeeded card payment;
    ``charge(order)`` charges the order's gross at the processor and returns the payment intent's id."""
    made = await service(session, price="2.5000")
    items = [(made, quantity, f"https://www.instagram.com/p/card{next(_seq)}/") for quantity in quantities]
    order = await paid_order(session, items=items)
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.STRIPE,
        status=PaymentRecordStatus.SUCCEEDED,
        stripe_payment_intent_id=charge(order),
        amount=order.gross,
        currency=order.currency,
    )
    session.add(payment)
    await session.flush()
    return order, payment


_STAFF_PASSWORD_HASH: dict[object, str] = {}


async def staff_user(session: AsyncSession, role: Role = Role.STAFF, **values: object) -> StaffUser:
    """An account to act with (password ``STAFF_PASSWORD``). A fixture row, not a change under test: it is
    inserted directly and writes no audit row (tests of account changes call ``app.accounts.commands``)."""
    n = next(_seq)
    # One hash per hasher (tests swap in a cheap one): hashing is deliberately slow.
    hasher_key = passwords._hasher
    if hasher_key not in _STAFF_PASSWORD_HASH:
        _STAFF_PASSWORD_HASH[hasher_key] = passwords.hash_password(STAFF_PASSWORD)
    email = str(values.pop("email", f"{role.value}{n}@smplat.example")).strip().lower()
    user = StaffUser(
        email=email,
        password_hash=_STAFF_PASSWORD_HASH[hasher_key],
        role=role,
        locale=values.pop("locale", "de"),
        is_active=True,
        must_change_password=False,
        **values,
    )
    session.add(user)
    await session.flush()
    return user


async def move_line(
    session: AsyncSession, line_id: int, *path: LineStatus, provider_order_id: str | None = None
) -> OrderLine:
    """Walk a line through ``path`` with the domain's transition primitive (test set-up for any state)."""
    uow = UnitOfWork(session)
    ((order, line),) = await lifecycle.lock_lines(uow, [line_id])
    for target in path:
        if target == LineStatus.DISPATCHED and provider_order_id:
            line.provider_order_id = provider_order_id
        lifecycle.set_line_status(uow, order, line, target, TEST_ACTOR)
    await session.flush()
    return line


async def company_settings(session: AsyncSession, **values: object) -> CompanySettings:
    """The seller (the demo's company data), saved through its command."""
    return await save_company_settings(UnitOfWork(session), values={**COMPANY, **values}, actor=TEST_ACTOR)


async def succeeded_refund(
    session: AsyncSession, order: Order, line: OrderLine | None, amount: Decimal, *, at: datetime | None = None
) -> Refund:
    """Money given back on ``order`` (for ``line``, or for the whole order), confirmed by the processor at ``at``
    (default: now), on the order's card payment (made here if the order has none)."""
    payment = await session.scalar(sa.select(Payment).where(Payment.order_id == order.id))
    if payment is None:
        payment = Payment(
            order_id=order.id,
            method=PaymentMethod.STRIPE,
            status=PaymentRecordStatus.SUCCEEDED,
            amount=order.gross,
            currency=order.currency,
        )
        session.add(payment)
        await session.flush()
    refund = Refund(
        payment_id=payment.id,
        order_line_id=line.id if line else None,
        amount=amount,
        currency=order.currency,
        reason="undelivered share",
        idempotency_key=f"refund-{order.id}-{next(_seq)}",
        requested_by="test",
    )
    session.add(refund)
    await session.flush()
    # Succeeded as the processor confirms it: the status change (at ``at``) is what reports count.
    values: dict[str, object] = {"status": RefundStatus.SUCCEEDED, **({"updated_at": at} if at else {})}
    await session.execute(sa.update(Refund).where(Refund.id == refund.id).values(**values))
    await session.refresh(refund)
    return refund
