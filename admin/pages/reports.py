"""Reports for finance: pick a report and a period, read the table and chart, download it in any format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import polars as pl
from sqladmin import BaseView, expose
from sqladmin.i18n import get_locale
from starlette.requests import Request
from starlette.responses import Response

from admin import sqladmin_compat as compat
from admin.i18n import admin_gettext, lazy
from app.date_input import parse_day_input
from app.db.read_only import READ_ONLY
from app.i18n import N_
from app.uow import utc_now
from reports.catalog import REPORTS, Report
from reports.cells import display_text
from reports.columns import COLUMN_TITLES
from reports.export import CONTENT_TYPES, FileFormat, report_file
from reports.kpis import METRICS
from reports.periods import DateRange, Grouping, Preset, berlin_today, preset_range
from reports.report_charts import report_chart
from reports.revenue import Selection

CUSTOM = "custom"
PRESET_LABELS = {
    Preset.THIS_MONTH: N_("This month"),
    Preset.LAST_MONTH: N_("Last month"),
    Preset.THIS_QUARTER: N_("This quarter"),
    Preset.LAST_QUARTER: N_("Last quarter"),
    Preset.THIS_YEAR: N_("This year"),
    Preset.LAST_YEAR: N_("Last year"),
    CUSTOM: N_("Custom"),
}
GROUPING_LABELS = {
    "": N_("Whole period"),
    Grouping.DAY: N_("Day"),
    Grouping.WEEK: N_("Week"),
    Grouping.MONTH: N_("Month"),
    Grouping.QUARTER: N_("Quarter"),
    Grouping.YEAR: N_("Year"),
}
DOWNLOADS = (
    ("csv", N_("CSV")),
    ("csv-de", N_("CSV (German Excel)")),
    ("xlsx", N_("Excel")),
    ("parquet", N_("Parquet")),
    ("pdf", N_("PDF")),
)
FIRST_REPORT = "kpis"  # the page opens on the success metrics
LONGEST_DAILY_RANGE = 400  # days: a day-by-day table longer than this is not for reading


@dataclass(frozen=True)
class Query:
    report: Report
    selection: Selection
    preset: str


def read_query(params: Mapping[str, str], today: date, locale: str) -> tuple[Query | None, dict[str, str]]:
    """The report the form asks for, or the fields it got wrong (with the reason)."""
    errors: dict[str, str] = {}
    report = REPORTS.get(params.get("report") or FIRST_REPORT)
    if report is None:
        errors["report"] = N_("Choose a report from the list.")
    preset = params.get("preset") or Preset.LAST_MONTH
    period: DateRange | None = None
    if preset == CUSTOM:
        first, last = _date(params, "from", errors), _date(params, "to", errors)
        if first and last:
            if last < first:
                errors["to"] = N_("The period ends before it starts.")
            else:
                period = DateRange(first, last)
    elif preset in set(Preset):
        period = preset_range(Preset(preset), today)
    else:
        errors["preset"] = N_("Choose a period from the list.")
    by = params.get("by")
    if by is not None and by not in GROUPING_LABELS:
        errors["by"] = N_("Choose a grouping from the list.")
    if errors or report is None or period is None:
        return None, errors
    grouping = report.grouping if by is None else (Grouping(by) if by else None)
    if grouping is Grouping.DAY and (period.last - period.first).days >= LONGEST_DAILY_RANGE:
        return None, {"by": N_("Group a period this long by week or longer.")}
    return Query(report, Selection(period, grouping, locale), preset), {}


def _date(params: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    raw = (params.get(name) or "").strip()
    try:
        return parse_day_input(raw)
    except ValueError:
        errors[name] = N_("Enter a date like 2026-01-31.") if raw else N_("required")
        return None


class ReportsView(BaseView):
    name = lazy("Reports")
    icon = "fa-solid fa-chart-column"

    @expose("/reports", identity="reports")
    async def reports(self, request: Request) -> Response:
        """The form, the table and the chart; with ``download=<format>`` the same report as a file."""
        query, errors = read_query(request.query_params, berlin_today(utc_now()), get_locale())
        if "download" in request.query_params:
            return await self._download(query, request.query_params["download"])
        context: dict[str, Any] = {
            "title": lazy("Reports"),
            "reports": REPORTS,
            "presets": PRESET_LABELS,
            "groupings": GROUPING_LABELS,
            "downloads": DOWNLOADS,
            "params": request.query_params,
            "errors": {name: admin_gettext(text) for name, text in errors.items()},
            "query": query,
            "cell": _cell,
        }
        if query is not None:
            frame = await self._frame(query)
            context.update(
                columns=[(name, admin_gettext(COLUMN_TITLES.get(name, name))) for name in frame.columns],
                rows=frame.rows(),
                chart=report_chart(query.report.name, frame, admin_gettext),
                kpis=list(zip(METRICS, frame.rows(named=True), strict=True)) if query.report.name == "kpis" else None,
                download_query=urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "download"]),
            )
        return await self.templates.TemplateResponse(
            request, "smplat/reports.html", context, status_code=400 if errors else 200
        )

    async def _download(self, query: Query | None, wanted: str) -> Response:
        if query is None or wanted not in {name for name, _label in DOWNLOADS}:
            return Response(admin_gettext(N_("This report cannot be made: check the form.")), status_code=400)
        file_format = FileFormat.CSV if wanted == "csv-de" else FileFormat(wanted)
        frame = await self._frame(query)
        title = admin_gettext(query.report.title)
        content = report_file(
            frame,
            file_format,
            title=title,
            translate=admin_gettext,
            german_excel=wanted == "csv-de",
            selection=query.selection,
            report=query.report.name,
        )
        period = query.selection.period
        filename = f"{query.report.name}_{period.first}_{period.last}.{file_format.value}"
        return Response(
            content,
            media_type=CONTENT_TYPES[file_format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def _frame(self, query: Query) -> pl.DataFrame:
        admin: Any = compat.admin_of(self)
        async with admin.session_maker() as session:
            await session.connection(execution_options=READ_ONLY)  # rolled back when the block ends
            return await query.report.build(session, query.selection, admin_gettext)


def _cell(value: object) -> str:
    return display_text(value, get_locale())
