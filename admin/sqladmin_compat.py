"""Every use of SQLAdmin's private API, in one module.

SQLAdmin (pinned to 0.32.x in pyproject.toml) has no public hooks for what the back office does beyond stock
lists and forms: rows rendered in one pass, cheap counts, forms saved through domain commands, exports that
follow the list's filters, POST on action routes. The private names those need live here and nowhere else;
``tests/integration/admin/test_sqladmin_compat.py`` pins the behaviour each one is relied on for. Upgrading
SQLAdmin is: bump the pin, run that test, mend this file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqladmin import Admin, BaseView, ModelView
from sqladmin._queries import Query
from sqladmin._types import _UNSET
from sqladmin.helpers import get_object_identifier, object_identifier_values
from sqlalchemy.sql import Select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "SAVE_LOGGER",
    "UNSET",
    "admin_of",
    "allow_post",
    "column_label",
    "column_labels",
    "default_formatter",
    "details_fields",
    "export_fields",
    "filter_lookups",
    "get_object_identifier",
    "identity_for",
    "is_link",
    "list_fields",
    "list_formatter",
    "list_relations",
    "object_identifier_values",
    "run_query",
    "search_fields",
    "sort_fields",
    "starlette_app",
    "store_after_change_response",
    "template_globals",
]

# The logger SQLAdmin reports a failed save to (with a traceback, even for a refusal shown on the form).
SAVE_LOGGER = "sqladmin.application"
# The "no default" marker of list filters (SQLAdmin applies a filter without a value only when it has a default).
UNSET: Any = _UNSET


# -- a view's columns --------------------------------------------------------------------------------------------


def column_labels(view: ModelView) -> dict[str, Any]:
    """Field name -> label (``column_labels`` keyed by name)."""
    labels: dict[str, Any] = view._column_labels
    return labels


def column_label(view: ModelView, name: str) -> str:
    return str(view._column_labels.get(name, name))


def list_fields(view: ModelView) -> list[str]:
    return list(view._list_prop_names)


def details_fields(view: ModelView) -> list[str]:
    return list(view._details_prop_names)


def export_fields(view: ModelView) -> list[str]:
    return list(view._export_prop_names)


def sort_fields(view: ModelView) -> list[str]:
    return list(view._sort_fields)


def search_fields(view: ModelView) -> list[str]:
    return list(view._search_fields)


def list_relations(view: ModelView) -> list[Any]:
    """The relationships the list shows (loaded with the rows)."""
    return list(view._list_relations)


def is_link(view: ModelView, name: str) -> bool:
    """Whether a list column shows a related record as a link to it."""
    return name in view._relation_names and name not in view._non_link_related_fields


def list_formatter(view: ModelView, name: str) -> Callable[[Any, str], Any] | None:
    formatter: Callable[[Any, str], Any] | None = view._list_formatters.get(name)
    return formatter


def default_formatter(view: ModelView, value: Any) -> Any:
    return view._default_formatter(value)


def identity_for(view: ModelView, record: Any) -> str:
    """The identity of the view that shows ``record`` (for links to related records)."""
    return str(view._identity_for_object(record))


# -- queries and writes ------------------------------------------------------------------------------------------


async def run_query(view: ModelView, stmt: Select[Any]) -> list[Any]:
    """Model rows of a select, in the view's session (SQLAdmin's list does this)."""
    rows: list[Any] = await view._run_query(stmt)
    return rows


def store_after_change_response(request: Request, response: Response | None) -> None:
    """Have SQLAdmin answer a save with ``response`` (e.g. a page showing a new password) instead of redirecting."""
    Query._store_after_change_response(request, response)


class RecordStatementHook(ModelView):
    """Routes SQLAdmin's private "statement for one record" through ``record_statement``, ours to override."""

    def _stmt_by_identifier(self, identifier: str) -> Any:
        return self.record_statement(identifier)

    def record_statement(self, identifier: str) -> Any:
        return super()._stmt_by_identifier(identifier)


def filter_lookups(list_filter: Any, request: Request, view: ModelView) -> Any:
    """A list filter's options, as SQLAdmin's filter templates ask for them (awaited by async Jinja)."""
    return list_filter.lookups(request, view.model, view._run_arbitrary_query)


def template_globals() -> dict[str, Any]:
    """What our templates read from a view, without naming SQLAdmin's private attributes."""
    return {
        "column_label": column_label,
        "details_fields": details_fields,
        "list_fields": list_fields,
        "sort_fields": sort_fields,
        "filter_lookups": filter_lookups,
    }


# -- the admin app -----------------------------------------------------------------------------------------------


def admin_of(view: BaseView) -> Any:
    """The Admin a view is registered with (our SmplatAdmin: settings, session maker)."""
    return view._admin_ref


def starlette_app(admin: Admin) -> Starlette:
    """The Starlette app SQLAdmin builds (its middleware, routes and exception handlers)."""
    app: Starlette = admin.admin
    return app


def allow_post(admin: Admin, route_names: Callable[[str], bool]) -> None:
    """Let the named routes answer POST too (SQLAdmin registers action and logout routes for GET only)."""
    for route in starlette_app(admin).router.routes:
        name = getattr(route, "name", "") or ""
        if route_names(name) and getattr(route, "methods", None) is not None:
            route.methods = {"GET", "HEAD", "POST"}  # type: ignore[attr-defined]
