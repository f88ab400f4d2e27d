"""List exports: exactly the rows a list shows (its filters, search and order, all pages), as CSV or XLSX.

The list's Export menu links to ``/admin/<view>/export/<type>`` with the list's own query string; the export
builds the list's statement from it (the view's ``list_query``, filters, ``search_query`` and ``sort_query``,
as ``ModelView.list``/``FastListMixin.list`` do) and writes up to ``export_max_rows`` rows. A longer list is
refused with a page that says so and points to the reports; a file is never cut short silently.

Columns are the view's ``column_export_list`` (dotted paths such as ``customer.email`` are fine), headed by
``column_export_labels`` or the list's labels; ``column_export_values`` computes a column from the row. Every
cell goes through ``reports.cells``: numbers stay numbers (money beside its own currency column), states read as
their labels, times are Berlin time to the second, NULL is empty, and text that a spreadsheet would run as a
formula is neutralised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import Select
from starlette.requests import Request
from starlette.responses import Response

from admin import sqladmin_compat as compat
from admin.i18n import admin_gettext
from admin.listing import FastListMixin
from app.i18n import BERLIN, Translate
from reports.files import csv_bytes, xlsx_bytes

Writer = Callable[..., bytes]

EXPORT_FORMATS: dict[str, tuple[str, Writer]] = {
    "csv": ("text/csv; charset=utf-8", csv_bytes),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx_bytes),
}
LIST_ONLY_PARAMETERS = frozenset({"page", "pageSize"})


async def list_statement(view: Any, request: Request) -> Select[Any]:
    """The statement of ``view``'s list for this request's filters, search and sort, without paging."""
    stmt = view.list_query(request)
    for relation in compat.list_relations(view):
        stmt = stmt.options(selectinload(relation))
    for list_filter in view.get_filters():
        name = list_filter.parameter_name
        value = request.query_params.get(name)
        if not value and getattr(list_filter, "default_value", compat.UNSET) is compat.UNSET:
            continue
        if getattr(list_filter, "has_operator", False):
            operation = request.query_params.get(f"{name}_op")
            if operation:
                stmt = await list_filter.get_filtered_query(stmt, operation, value, view.model)
        else:
            stmt = await list_filter.get_filtered_query(stmt, value, view.model)
    search = request.query_params.get("search") or ""
    if isinstance(view, FastListMixin):
        search = search.strip()  # as FastListMixin.list does
    if search:
        stmt = view.search_query(stmt=stmt, term=search)
    return view.sort_query(stmt, request)  # type: ignore[no-any-return]


def _shown(value: Any) -> Any:
    """A related record reads as its ``str()``, a list of them as a comma-separated list; values stay typed."""
    if hasattr(type(value), "__mapper__"):
        return str(value)
    if isinstance(value, list | tuple | set) and any(hasattr(type(item), "__mapper__") for item in value):
        return ", ".join(str(item) for item in value)
    return value


class ExportMixin:
    """The export of every back-office list (see the module docstring)."""

    list_template = "smplat/list.html"
    export_types: ClassVar[list[str]] = list(EXPORT_FORMATS)
    export_max_rows: ClassVar[int] = 10_000
    column_export_labels: ClassVar[dict[str, str]] = {}
    column_export_values: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    # -- what the list's Export menu links to -------------------------------------------------------------------

    def export_url(self, request: Request, export_type: str) -> str:
        """The export of what this list page shows: its query string without the paging."""
        view: Any = self
        url = str(request.url_for("admin:export", identity=view.identity, export_type=export_type))
        query = [(key, value) for key, value in request.query_params.multi_items() if key not in LIST_ONLY_PARAMETERS]
        return f"{url}?{urlencode(query)}" if query else url

    def list_url(self, request: Request) -> str:
        """The list page this export was made from (same filters, search and order)."""
        view: Any = self
        url = str(request.url_for("admin:list", identity=view.identity))
        return f"{url}?{request.url.query}" if request.url.query else url

    # -- the columns --------------------------------------------------------------------------------------------

    def export_column_names(self) -> list[str]:
        view: Any = self
        return compat.export_fields(view)

    def export_header(self) -> list[str]:
        view: Any = self
        return [
            str(self.column_export_labels.get(name) or compat.column_labels(view).get(name) or name)
            for name in self.export_column_names()
        ]

    def export_value(self, row: Any, name: str) -> Any:
        computed = self.column_export_values.get(name)
        if computed is not None:
            return computed(row)
        value = row
        for part in name.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return _shown(value)

    def export_row(self, row: Any) -> list[Any]:
        return [self.export_value(row, name) for name in self.export_column_names()]

    # -- the rows (SQLAdmin's export endpoint calls get_model_objects, then export_data) -------------------------

    async def export_statement(self, request: Request) -> Select[Any]:
        """The list's statement, plus the relations the export columns read and the primary key as tie-break."""
        view: Any = self
        stmt = await list_statement(view, request)
        relationships = sa.inspect(view.model).relationships
        listed = {relation.key for relation in compat.list_relations(view)}
        for name in self.export_column_names():
            first = name.split(".", 1)[0]
            if "." in name and first in relationships and first not in listed:
                stmt = stmt.options(selectinload(relationships[first].class_attribute))
                listed.add(first)
        return stmt.order_by(*view.pk_columns)

    async def get_model_objects(self, request: Request, limit: int | None = 0) -> list[Any]:
        """The export's rows as lists of cell values; none (and the refusal flagged) when the list is too long."""
        view: Any = self
        cap = limit or self.export_max_rows
        stmt = await self.export_statement(request)
        async with view.session_maker(expire_on_commit=False) as session:
            if cap:
                capped = sa.select(sa.func.count()).select_from(stmt.order_by(None).limit(cap + 1).subquery())
                if int(await session.scalar(capped) or 0) > cap:
                    request.state.export_refused = True
                    return []
            rows = (await session.execute(stmt)).scalars().unique().all()
            return [self.export_row(row) for row in rows]

    async def export_data(self, data: list[Any], export_type: str = "csv", request: Request | None = None) -> Any:
        """The file as a download, or the page that says why there is none (a Response either way)."""
        view: Any = self
        assert request is not None  # SQLAdmin's export endpoint always passes it
        if getattr(request.state, "export_refused", False):
            return await self.export_refused(request)
        media_type, write = EXPORT_FORMATS[export_type]
        translate: Translate = admin_gettext
        content = write(self.export_header(), data, translate, **self._writer_options(export_type))
        stamp = datetime.now(BERLIN).strftime("%Y-%m-%d_%H-%M")
        return Response(
            content,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{view.identity}_{stamp}.{export_type}"'},
        )

    def _writer_options(self, export_type: str) -> dict[str, Any]:
        view: Any = self
        return {"title": str(view.name_plural)} if export_type == "xlsx" else {}

    async def export_refused(self, request: Request) -> Response:
        view: Any = self
        context = {"model_view": view, "cap": self.export_max_rows, "back": self.list_url(request)}
        return await view.templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "smplat/export_refused.html", context, status_code=409
        )
