"""Every date filter of every list takes the edges of the calendar without failing: years 1 and 9999, years
beyond 9999 (HTML date inputs allow them), open and reversed ranges. Out-of-range dates are clamped."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from admin.listing import DateRangeFilter
from app.accounts.models import Role
from app.i18n import BERLIN

ALL, NONE, IGNORED = "all", "none", "ignored"  # all: every row with a date; ignored: every row
TODAY = datetime.now(BERLIN).date().isoformat()
EDGES = {
    "0001-01-01..": ALL,
    "..9999-12-31": ALL,
    "0001-01-01..9999-12-31": ALL,
    "..10000-01-01": ALL,
    "..275760-09-13": ALL,
    "2000-01-01..10000-01-01": ALL,
    "9999-12-31..": NONE,
    "10000-01-01..": NONE,
    "..0001-01-01": NONE,
    "0001-01-01..0001-01-01": NONE,
    "9999-12-31..9999-12-31": NONE,
    # malformed: ignored like any other bad input
    "0000-01-01..": IGNORED,
    "10000-13-01..": IGNORED,
    "2026-02-30..": IGNORED,
    "1234567-01-01..": IGNORED,
    "..": IGNORED,
}


def date_filters(backoffice: Any) -> list[tuple[str, str]]:
    found = [(view.identity, list_filter.parameter_name) for view, list_filter in date_filter_views(backoffice)]
    assert ("order", "created_at") in found
    return found


def date_filter_views(backoffice: Any) -> list[tuple[Any, DateRangeFilter]]:
    return [
        (view, list_filter)
        for view in backoffice.admin.views
        for list_filter in getattr(view, "column_filters", None) or []
        if isinstance(list_filter, DateRangeFilter)
    ]


async def dated_ids(backoffice: Any, view: Any, list_filter: DateRangeFilter) -> set[str]:
    """The rows that have a date in the filtered column (all of them where the column is never empty)."""
    async with backoffice.sessions() as session:
        ids = await session.scalars(sa.select(view.model.id).where(list_filter.column.is_not(None)))
        return {str(pk) for pk in ids}


def shown_ids(html: str, identity: str) -> set[str]:
    return set(re.findall(rf"/admin/{re.escape(identity)}/details/(\d+)\"", html))


async def list_page(backoffice: Any, identity: str, query: dict[str, str] | None = None) -> set[str]:
    response = await backoffice.as_role(Role.ADMIN).get(f"/admin/{identity}/list", params=query or {})
    assert response.status_code == 200, f"{identity} {query}: {response.status_code}"
    return shown_ids(response.text, identity)


@pytest.mark.parametrize(("value", "expected"), EDGES.items())
async def test_date_filters_clamp_the_edges_of_the_calendar(backoffice, value, expected):
    for view, list_filter in date_filter_views(backoffice):
        identity, parameter = view.identity, list_filter.parameter_name
        everything = await list_page(backoffice, identity)
        assert everything, f"the {identity} list shows nothing to filter"
        dated = everything & await dated_ids(backoffice, view, list_filter)
        shown = await list_page(backoffice, identity, {parameter: value})
        wanted = {ALL: dated, NONE: set(), IGNORED: everything}[expected]
        assert shown == wanted, f"{identity}?{parameter}={value}"


async def test_a_reversed_date_range_is_read_forwards(backoffice):
    for identity, parameter in date_filters(backoffice):
        forwards = await list_page(backoffice, identity, {parameter: f"2000-01-01..{TODAY}"})
        backwards = await list_page(backoffice, identity, {parameter: f"{TODAY}..2000-01-01"})
        assert forwards, f"the demo's {identity} rows are all older than 2000?"
        assert backwards == forwards
        same_day = await list_page(backoffice, identity, {parameter: f"{TODAY}..{TODAY}"})
        assert same_day == await list_page(backoffice, identity, {parameter: "today"})
