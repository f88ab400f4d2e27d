"""``smplat invoices``: the exports for the tax advisor (DATEV bookings of a month, the PDFs of a period, the
month's Stripe balance transactions for the clearing account)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import IO

import click

from app.cli.errors import fail, reported
from app.cli.main import database_url, require_current_schema
from app.config import get_settings
from app.db.engine import session_factory
from app.db.read_only import read_only_session
from app.db.session import engine_for
from app.i18n import LOCALES, translations
from app.invoicing.exports import datev_file, stripe_clearing_file, write_archive
from app.payments.gateway import GatewayError
from app.payments.stripe_gateway import gateway_from_settings
from app.uow import utc_now
from reports.periods import DateRange, calendar_month

LONGEST_ARCHIVE = 366  # days: a year of PDFs at most per file

OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group()
def invoices() -> None:
    """Invoices: exports for the tax advisor."""


def _day(option: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise fail(f"{option} {raw!r} is not a date like 2026-01-31") from None


def _month(raw: str) -> DateRange:
    try:
        return calendar_month(raw)
    except ValueError:
        raise fail(f"--month {raw!r} is not a month like 2026-10") from None


def _write(out: Path, content: bytes) -> None:
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from exc


@invoices.command("export-datev")
@click.option("--month", required=True, metavar="YYYY-MM", help="Month of issue (Berlin time).")
@click.option("--out", type=OUT, required=True)
@reported
def export_datev(month: str, out: Path) -> None:
    """Write the month's invoices and credit notes as a DATEV Buchungsstapel (CSV)."""
    period = _month(month)
    url = database_url()

    async def run() -> bytes:
        await require_current_schema(url)
        async with engine_for(url) as engine, read_only_session(engine) as session:
            return await datev_file(
                session,
                first=period.first,
                last=period.last,
                start=period.start,
                end=period.end,
                created_at=utc_now(),
                exported_by="smplat",
            )

    content = asyncio.run(run())
    _write(out, content)
    click.echo(f"DATEV bookings {period.first:%Y-%m} written to {out} ({len(content):,} bytes)")


@invoices.command("export-stripe")
@click.option("--month", required=True, metavar="YYYY-MM", help="Month of the balance transactions (Berlin time).")
@click.option("--out", type=OUT, required=True)
@click.option("--lang", type=click.Choice(LOCALES), default="de", show_default=True, help="Language of the columns.")
@click.option(
    "--excel/--plain", default=True, show_default=True, help="German Excel (BOM, ';', decimal commas) or plain CSV."
)
@reported
def export_stripe(month: str, out: Path, lang: str, excel: bool) -> None:
    """Write the month's Stripe charges, refunds, fees and payouts for the clearing account (CSV)."""
    period = _month(month)
    gateway = gateway_from_settings(get_settings())
    if gateway is None:
        raise fail("Stripe is not configured: set SMPLAT_STRIPE_SECRET_KEY to export its balance transactions")
    stripe = gateway
    url = database_url()

    async def run() -> bytes:
        await require_current_schema(url)
        try:
            async with engine_for(url) as engine, read_only_session(engine) as session:
                return await stripe_clearing_file(
                    session,
                    stripe,
                    start=period.start,
                    end=period.end,
                    translate=translations(lang).gettext,
                    german_excel=excel,
                )
        finally:
            await stripe.aclose()

    try:
        content = asyncio.run(run())
    except GatewayError as exc:
        raise fail(str(exc)) from exc
    _write(out, content)
    click.echo(f"Stripe balance transactions {period.first:%Y-%m} written to {out} ({len(content):,} bytes)")


@invoices.command("export-zip")
@click.option("--from", "first", required=True, metavar="YYYY-MM-DD", help="First day (Berlin time), included.")
@click.option("--to", "last", required=True, metavar="YYYY-MM-DD", help="Last day (Berlin time), included.")
@click.option("--out", type=OUT, required=True)
@click.option("--lang", type=click.Choice(LOCALES), default="de", show_default=True, help="Language of the index.")
@reported
def export_zip(first: str, last: str, out: Path, lang: str) -> None:
    """Write the PDFs of the invoices and credit notes issued in a period, with an index, as a ZIP."""
    try:
        period = DateRange(_day("--from", first), _day("--to", last))
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if (period.last - period.first).days >= LONGEST_ARCHIVE:
        raise fail(f"the period is longer than {LONGEST_ARCHIVE} days; export it a year or less at a time")
    url = database_url()

    async def run(target: IO[bytes]) -> int:
        await require_current_schema(url)
        async with engine_for(url) as engine:
            sessions = session_factory(engine)
            translate = translations(lang).gettext
            return await write_archive(sessions, target, start=period.start, end=period.end, translate=translate)

    try:
        with out.open("wb") as target:
            count = asyncio.run(run(target))
    except OSError as exc:
        out.unlink(missing_ok=True)
        raise fail(f"cannot write {out}: {exc.strerror}") from exc
    except BaseException:
        out.unlink(missing_ok=True)  # no half-written archive left behind
        raise
    click.echo(f"{count} documents {period.first}..{period.last} written to {out}")
