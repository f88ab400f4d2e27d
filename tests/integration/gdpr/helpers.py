"""Clients with data in the tables an export reads: a paid order with its invoice (when the seller is set up)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor
from app.customers.models import Customer
from app.invoicing.commands import issue_invoice
from app.orders.lifecycle import lock_orders
from app.orders.models import Order
from app.orders.states import OrderStatus
from app.uow import UnitOfWork
from tests import factories


@dataclass(frozen=True)
class Client:
    customer: Customer
    order: Order


async def client_with_an_order(session: AsyncSession, name: str, *, finished: bool = False) -> Client:
    buyer = await factories.customer(session, email=f"{name.lower()}@example.com", name=f"{name} Beispiel")
    order = await factories.paid_order(session, buyer=buyer)
    (locked,) = await lock_orders(UnitOfWork(session), [order.id])
    await issue_invoice(UnitOfWork(session), locked, Actor.system("test"))
    if finished:
        await session.execute(sa.update(Order).where(Order.id == order.id).values(status=OrderStatus.COMPLETED))
    return Client(buyer, order)
