"""Shared declarative bases and column types for every domain's models."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.base import DefaultBase, IdentityAuditBase, IdentityBase, orm_registry
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "JSONB",
    "Currency",
    "DateTimeUTC",
    "DefaultBase",
    "IdentityAuditBase",
    "IdentityBase",
    "Money",
    "Rate",
    "enum_type",
    "metadata",
]

metadata = orm_registry.metadata

# Amounts in a currency: NUMERIC(12,2). Prices and rates per 1000 units: NUMERIC(12,4).
Money = sa.Numeric(12, 2, asdecimal=True)
Rate = sa.Numeric(12, 4, asdecimal=True)
Currency = sa.String(3)

ZERO = Decimal("0.00")


def enum_type(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A VARCHAR column with a CHECK constraint listing the enum's values.

    Native PostgreSQL enums need ALTER TYPE for every new value; a check constraint is changed by an
    ordinary migration and keeps the values readable in SQL.
    """
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def server_now() -> Any:
    return sa.text("now()")
