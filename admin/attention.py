"""List filters for what the dashboard counts: lines needing attention, providers low on balance.

Each filter applies the domain's own condition (``app/fulfillment/attention.py``), the one the count used.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import Select
from starlette.requests import Request

from admin import sqladmin_compat as compat
from admin.i18n import admin_gettext, lazy
from app.config import get_settings
from app.fulfillment.attention import ATTENTION_LABELS, QUEUED_TOO_LONG, Attention, attention_condition
from app.uow import utc_now


def attention_label(kind: Attention) -> str:
    return admin_gettext(ATTENTION_LABELS[kind]) % {"minutes": QUEUED_TOO_LONG // timedelta(minutes=1)}


class AttentionFilter:
    """``?attention=<kind>`` on the order lines: exactly the lines the dashboard counts as that kind."""

    has_operator = False
    default_value: Any = compat.UNSET
    template = "sqladmin/filters/lookup_filter.html"
    parameter_name = "attention"

    def __init__(self) -> None:
        self.title: str = lazy("Needs attention")

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[[Select[Any]], Any]
    ) -> list[tuple[str, str]]:
        return [("__all", lazy("All")), *[(kind.value, attention_label(kind)) for kind in Attention]]

    async def get_filtered_query(self, query: Select[Any], value: Any, model: Any) -> Select[Any]:
        if value not in {kind.value for kind in Attention}:
            return query
        stuck_after = timedelta(hours=get_settings().stuck_after_hours)
        return query.where(attention_condition(Attention(value), now=utc_now(), stuck_after=stuck_after))


class ConditionFilter:
    """A yes-only filter: ``?<parameter_name>=yes`` keeps the rows matching ``condition()``."""

    has_operator = False
    default_value: Any = compat.UNSET
    template = "sqladmin/filters/lookup_filter.html"

    def __init__(self, title: str, parameter_name: str, condition: Callable[[], sa.ColumnElement[bool]]) -> None:
        self.title: str = lazy(title)
        self.parameter_name = parameter_name
        self.condition = condition

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[[Select[Any]], Any]
    ) -> list[tuple[str, str]]:
        return [("__all", lazy("All")), ("yes", lazy("Yes"))]

    async def get_filtered_query(self, query: Select[Any], value: Any, model: Any) -> Select[Any]:
        return query.where(self.condition()) if value == "yes" else query
