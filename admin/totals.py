"""A totals row under a filtered list (orders, payments): count and money sums per currency, in one query over
exactly the rows the list's filters and search select (``FastListMixin`` keeps that statement for it)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqladmin.i18n import get_locale
from starlette.requests import Request

from admin.i18n import LazyText
from app import i18n
from app.db.totals import totals_by_currency


class ListTotalsMixin:
    """``totals_columns``: money column -> its label in the totals row."""

    totals_columns: ClassVar[dict[str, LazyText]] = {}
    totals_count_label: ClassVar[LazyText]

    async def list_totals(self, request: Request) -> list[list[tuple[str, str]]]:
        """Per currency: the row's labelled figures, formatted for the staff member's language."""
        rows = getattr(request.state, "list_statement", None)
        if rows is None:
            return []
        view: Any = self
        async with view.session_maker() as session:
            totals = await totals_by_currency(session, rows, list(self.totals_columns))
        locale = get_locale()
        return [
            [
                (str(self.totals_count_label), i18n.format_number(entry.count, locale)),
                *(
                    (str(label), i18n.format_money(entry.sums[name], entry.currency, locale))
                    for name, label in self.totals_columns.items()
                ),
            ]
            for entry in totals
        ]
