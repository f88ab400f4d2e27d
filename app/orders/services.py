"""Order queries: looking orders up and reading their timeline. Changes go through ``app/orders/commands.py``."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.orm import joinedload, raiseload, selectinload

from app.catalog.models import Service
from app.errors import NotFound
from app.i18n import N_
from app.orders.models import Order, OrderEvent, OrderLine
from app.orders.placing import tracking_token_hash


class OrderService(SQLAlchemyAsyncRepositoryService[Order]):
    class Repo(SQLAlchemyAsyncRepository[Order]):
        model_type = Order

    repository_type = Repo

    async def get_order(self, order_id: int) -> Order:
        order = await self.get_one_or_none(id=order_id)
        if order is None:
            raise NotFound(N_("Order %(ids)s not found"), ids=order_id)
        return order

    async def find_by_tracking_token(self, token: str) -> Order | None:
        return await self.get_one_or_none(tracking_token_hash=tracking_token_hash(token))

    async def find_for_tracking_page(self, token: str) -> Order | None:
        """The order behind a tracking link with only what its page reads: the lines with their services (two
        queries); its customer, the lines' providers and the services' categories and mappings are not loaded (the
        page polls often, and each of them was a join or a query per request)."""
        stmt = (
            sa.select(Order)
            .where(Order.tracking_token_hash == tracking_token_hash(token))
            .options(
                raiseload(Order.customer),
                selectinload(Order.lines).options(
                    joinedload(OrderLine.service).options(
                        raiseload(Service.category), raiseload(Service.provider_service)
                    ),
                    raiseload(OrderLine.provider),
                ),
            )
        )
        order: Order | None = (await self.repository.session.scalars(stmt)).unique().one_or_none()
        return order

    async def timeline(self, order_id: int, limit: int = 200) -> Sequence[OrderEvent]:
        stmt = (
            sa.select(OrderEvent)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.at.desc(), OrderEvent.id.desc())
            .limit(limit)
        )
        events: Sequence[OrderEvent] = (await self.repository.session.scalars(stmt)).unique().all()
        return events
