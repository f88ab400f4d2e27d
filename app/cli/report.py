"""``smplat report``: a revenue or tax report for a date range, written to a file."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import click

from app.cli.errors import fail, reported
from app.cli.main import database_url, require_current_schema
from app.db.read_only import read_only_session
from app.db.session import engine_for
from app.i18n import LOCALES, translations
from reports.catalog import REPORTS
from reports.export import FileFormat, report_file
from reports.periods import DateRange, Grouping
from reports.revenue import Selection


def _day(option: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise fail(f"{option} {raw!r} is not a date like 2026-01-31") from None


@click.command("report")
@click.argument("name")
@click.option("--from", "first", required=True, metavar="YYYY-MM-DD", help="First day (Berlin time), included.")
@click.option("--to", "last", required=True, metavar="YYYY-MM-DD", help="Last day (Berlin time), included.")
@click.option("--by", "grouping", type=click.Choice([g.value for g in Grouping]), help="Bucket size of the rows.")
@click.option("--format", "file_format", type=click.Choice([f.value for f in FileFormat]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
@click.option("--lang", type=click.Choice(LOCALES), default="en", show_default=True, help="Language of labels.")
@click.option("--german-excel", is_flag=True, help="CSV with semicolons and decimal commas.")
@reported
def report(
    name: str,
    first: str,
    last: str,
    grouping: str | None,
    file_format: str,
    out: Path,
    lang: str,
    german_excel: bool,
) -> None:
    """Write report NAME (revenue, revenue-by-category, tax, oss, …) for a period to a file."""
    chosen = REPORTS.get(name)
    if chosen is None:
        raise fail(f"unknown report {name!r}; choose one of: {', '.join(REPORTS)}")
    try:
        period = DateRange(_day("--from", first), _day("--to", last))
    except ValueError as exc:
        raise fail(str(exc)) from exc
    selection = Selection(period, Grouping(grouping) if grouping else chosen.grouping, lang)
    translate = translations(lang).gettext
    url = database_url()

    async def run() -> bytes:
        await require_current_schema(url)
        async with engine_for(url) as engine, read_only_session(engine) as session:
            frame = await chosen.build(session, selection, translate)
        return report_file(
            frame,
            FileFormat(file_format),
            title=translate(chosen.title),
            translate=translate,
            german_excel=german_excel,
            selection=selection,
            report=chosen.name,
        )

    content = asyncio.run(run())
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from exc
    click.echo(f"{chosen.name} {period.first}..{period.last} written to {out} ({len(content):,} bytes)")
