"""Exports for the tax advisor (finance and admins): a month's DATEV bookings, a period's PDFs as a ZIP, the
month's Stripe balance transactions for the clearing account, and the way to the OSS report."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Any

from sqladmin import BaseView, expose
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from admin import sqladmin_compat as compat
from admin.base import staff_of
from admin.i18n import admin_gettext, lazy
from app.date_input import iso_month, parse_day_input
from app.db.read_only import READ_ONLY
from app.errors import DomainError
from app.i18n import N_
from app.invoicing.exports import datev_file, stripe_clearing_file, write_archive
from app.payments.balance import BalanceHistory
from app.payments.gateway import GatewayError
from app.uow import utc_now
from reports.periods import DateRange, Preset, berlin_today, calendar_month, preset_range

LONGEST_ARCHIVE = 366  # days, as on the command line
IN_MEMORY = 16 * 1024 * 1024  # a bigger archive spills to a temporary file
CHUNK = 256 * 1024


NEEDS_STRIPE = N_(
    "This export reads the balance transactions from Stripe: configure Stripe (SMPLAT_STRIPE_SECRET_KEY)."
)


def read_month(params: Mapping[str, str], name: str = "month") -> tuple[DateRange | None, dict[str, str]]:
    try:
        return calendar_month(iso_month(params.get(name) or "")), {}
    except ValueError:
        return None, {name: N_("Enter a month like 2026-10.")}


def read_period(params: Mapping[str, str]) -> tuple[DateRange | None, dict[str, str]]:
    errors: dict[str, str] = {}
    days = {}
    for name in ("from", "to"):
        raw = (params.get(name) or "").strip()
        try:
            days[name] = parse_day_input(raw)
        except ValueError:
            errors[name] = N_("Enter a date like 2026-01-31.") if raw else N_("required")
    if errors:
        return None, errors
    if days["to"] < days["from"]:
        return None, {"to": N_("The period ends before it starts.")}
    if (days["to"] - days["from"]).days >= LONGEST_ARCHIVE:
        return None, {"to": N_("Export a year or less at a time.")}
    return DateRange(days["from"], days["to"]), {}


class TaxAdvisorView(BaseView):
    name = lazy("Exports for the tax advisor")
    icon = "fa-solid fa-file-zipper"

    @expose("/tax-advisor", identity="tax-advisor")
    async def exports(self, request: Request) -> Response:
        """The two export forms; with ``download=datev`` or ``download=pdfs`` the file itself."""
        params = request.query_params
        wanted = params.get("download")
        errors: dict[str, str] = {}
        if wanted == "datev":
            month, errors = read_month(params)
            if month is not None:
                return await self._datev(request, month)
        elif wanted == "stripe":
            month, errors = read_month(params, "stripe_month")
            if month is not None:
                return await self._stripe(request, month)
        elif wanted == "pdfs":
            period, errors = read_period(params)
            if period is not None:
                return await self._pdfs(period)
        elif wanted is not None:
            errors = {"download": N_("Choose one of the exports on this page.")}
        return await self._page(request, {name: admin_gettext(text) for name, text in errors.items()})

    async def _page(self, request: Request, errors: dict[str, str], refusal: str | None = None) -> Response:
        last_month = preset_range(Preset.LAST_MONTH, berlin_today(utc_now()))
        context: dict[str, Any] = {
            "title": lazy("Exports for the tax advisor"),
            "params": request.query_params,
            "errors": errors,
            "refusal": refusal,
            "default_month": f"{last_month.first:%Y-%m}",
            "default_from": last_month.first.isoformat(),
            "default_to": last_month.last.isoformat(),
            "stripe_ready": _balance_history(request) is not None,
        }
        status = 400 if errors or refusal else 200
        return await self.templates.TemplateResponse(request, "smplat/tax_advisor.html", context, status_code=status)

    async def _datev(self, request: Request, month: DateRange) -> Response:
        admin: Any = compat.admin_of(self)
        try:
            async with admin.session_maker() as session:
                await session.connection(execution_options=READ_ONLY)  # rolled back when the block ends
                content = await datev_file(
                    session,
                    first=month.first,
                    last=month.last,
                    start=month.start,
                    end=month.end,
                    created_at=utc_now(),
                    exported_by=staff_of(request).email,
                )
        except DomainError as exc:
            return await self._page(request, {}, exc.translated(admin_gettext))
        filename = f"EXTF_Buchungsstapel_{month.first:%Y-%m}.csv"
        return Response(
            content,
            media_type="text/csv; charset=windows-1252",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def _stripe(self, request: Request, month: DateRange) -> Response:
        history = _balance_history(request)
        if history is None:
            return await self._page(request, {}, admin_gettext(NEEDS_STRIPE))
        admin: Any = compat.admin_of(self)
        try:
            async with admin.session_maker() as session:
                await session.connection(execution_options=READ_ONLY)
                content = await stripe_clearing_file(
                    session, history, start=month.start, end=month.end, translate=admin_gettext
                )
        except GatewayError as exc:
            reason = admin_gettext(N_("Stripe did not give the balance transactions: %(reason)s")) % {"reason": exc}
            return await self._page(request, {}, reason)
        filename = f"stripe_clearing_{month.first:%Y-%m}.csv"
        return Response(
            content,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def _pdfs(self, period: DateRange) -> Response:
        admin: Any = compat.admin_of(self)
        target = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 - closed by the response
        try:
            await write_archive(
                admin.session_maker, target, start=period.start, end=period.end, translate=admin_gettext
            )
        except BaseException:
            target.close()
            raise
        target.seek(0)
        filename = f"invoices_{period.first}_{period.last}.zip"
        return StreamingResponse(
            _chunks(target),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def _balance_history(request: Request) -> BalanceHistory | None:
    gateway = getattr(request.app.state, "payment_gateway", None)
    return gateway if isinstance(gateway, BalanceHistory) else None


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    with source:
        while chunk := source.read(CHUNK):
            yield chunk
