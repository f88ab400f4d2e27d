"""Totals of a filtered list: how many rows and the sums of their money columns, per currency, in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    count: int
    sums: dict[str, Decimal]  # money column name -> sum over the rows in this currency


async def totals_by_currency(session: AsyncSession, rows: Select[Any], amounts: Sequence[str]) -> list[CurrencyTotals]:
    """Over every row ``rows`` selects (its filters and search; its order and paging do not matter): the count and
    the sums of the ``amounts`` columns, one entry per ``currency``, in currency order."""
    selected = rows.order_by(None).limit(None).offset(None).subquery()
    stmt = (
        sa.select(
            selected.c.currency,
            sa.func.count(),
            *(sa.func.coalesce(sa.func.sum(selected.c[name]), 0) for name in amounts),
        )
        .group_by(selected.c.currency)
        .order_by(selected.c.currency)
    )
    return [
        CurrencyTotals(currency=currency, count=count, sums=dict(zip(amounts, sums, strict=True)))
        for currency, count, *sums in await session.execute(stmt)
    ]
