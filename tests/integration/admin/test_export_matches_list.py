"""For every exportable list and a spread of filters, searches and sorts: the export reads the rows the list shows.

The export rebuilds the list's statement from the query string (admin/export.py ``list_statement``); this pins
it to the lists themselves (``ModelView.list`` and ``FastListMixin.list``), so a change to one that the other
does not follow fails here, view by view, with the query that differs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from sqladmin import ModelView
from sqladmin.helpers import get_object_identifier
from starlette.requests import Request

from admin.export import ExportMixin
from admin.registry import ADMIN_VIEWS

PAGE = 100  # the largest page the lists allow
EXPORTABLE = [v for v in ADMIN_VIEWS if issubclass(v, ExportMixin) and v.can_export]


def request_for(view: Any, params: dict[str, str]) -> Request:
    query = urlencode(params).encode()
    return Request({"type": "http", "method": "GET", "path": f"/admin/{view.identity}/list", "query_string": query})


def value_at(row: Any, path: str) -> Any:
    for part in path.split("."):
        row = getattr(row, part, None)
    return row


def sort_fields(view: Any, params: dict[str, str]) -> list[str]:
    if params.get("sortBy"):
        return [params["sortBy"]]
    return [view._get_prop_name(field) for field, _desc in view._get_default_sort()]


async def queries(view: Any) -> list[dict[str, str]]:
    """No parameters; each filter's first choice; a search; each sort both ways; all of them at once."""
    found: list[dict[str, str]] = [{}]
    combined: dict[str, str] = {}
    for list_filter in view.get_filters():
        choices = await list_filter.lookups(request_for(view, {}), view.model, view._run_arbitrary_query)
        value = next((key for key, _label in choices if key != "__all"), None)
        if value is not None:
            found.append({list_filter.parameter_name: value})
            combined[list_filter.parameter_name] = value
    if view._search_fields:
        found += [{"search": "an"}, {"search": "lind"}]  # short terms and fragments search differently
        combined["search"] = "lind"
    for field in view._sort_fields:
        found += [{"sortBy": field, "sort": "asc"}, {"sortBy": field, "sort": "desc"}]
        combined.update(sortBy=field, sort="desc")
    return [*found, combined]


async def every_page(view: Any, params: dict[str, str]) -> list[Any]:
    rows: list[Any] = []
    page = 1
    while True:
        shown = await view.list(request_for(view, {**params, "page": str(page), "pageSize": str(PAGE)}))
        rows += shown.rows
        if page * PAGE >= shown.count:
            return rows
        page += 1


@pytest.fixture
def view_of(backoffice, monkeypatch):
    """The registered instance of a view class, its queries on this test's event loop (the app's pool is not)."""

    def find(view_class: type) -> Any:
        (view,) = [v for v in backoffice.admin.views if type(v) is view_class]
        monkeypatch.setattr(view, "session_maker", backoffice.sessions)
        return view

    return find


@pytest.mark.parametrize("view_class", EXPORTABLE, ids=lambda view_class: view_class.__name__)
async def test_the_export_reads_the_rows_of_the_list_in_its_order(view_of, view_class):
    view = view_of(view_class)
    assert isinstance(view, ModelView)
    problems = []
    for params in await queries(view):
        listed = await every_page(view, params)
        exported = await view._run_query(await view.export_statement(request_for(view, params)))
        if {get_object_identifier(r) for r in listed} != {get_object_identifier(r) for r in exported}:
            problems.append(f"{params}: the export holds other rows than the list")
            continue
        keys = sort_fields(view, params)
        if [[value_at(r, k) for k in keys] for r in listed] != [[value_at(r, k) for k in keys] for r in exported]:
            problems.append(f"{params}: the export is in another order than the list")
    assert not problems, f"{view.identity}:\n" + "\n".join(problems)


@pytest.mark.parametrize("view_class", EXPORTABLE, ids=lambda view_class: view_class.__name__)
async def test_every_exportable_list_has_seeded_rows_to_compare(view_of, view_class):
    """Guards the test above against comparing empty lists only."""
    view = view_of(view_class)
    assert (await view.list(request_for(view, {}))).rows, f"{view.identity} has no seeded rows"
