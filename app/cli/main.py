"""``smplat``: run, migrate, administer and demo the product."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click

from app.accounts.commands import create_staff_user
from app.accounts.models import Role
from app.actors import Actor
from app.cli.errors import fail, reported
from app.config import ConfigError, get_settings
from app.db import migrations
from app.db.bootstrap import check_connection, resolve_database
from app.db.engine import session_factory
from app.db.key_rotation import KeyReport, key_status, rotate_keys
from app.db.session import engine_for, schema_is_current, transaction
from app.db.urls import redact
from app.observability import configure_logging
from app.uow import UnitOfWork, unit_of_work

if TYPE_CHECKING:
    from app.providers.sync import SyncOutcome


def database_url() -> str:
    """The database for this command: SMPLAT_DATABASE_URL, or the embedded server (started when needed)."""
    url, _embedded = resolve_database(get_settings())
    check_connection(url)
    return url


async def require_current_schema(url: str) -> None:
    async with engine_for(url) as engine:
        current, revision, head = await schema_is_current(engine)
    if not current:
        raise fail(
            f"the database at {redact(url)} is at migration {revision or 'none'}, not {head}; "
            "run `smplat db upgrade` first"
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """SMPLaT: back office and storefront of a social-media growth agency."""
    try:
        configure_logging(get_settings())
    except ConfigError as exc:
        raise fail(str(exc)) from exc


# -- database --------------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@reported
def db_upgrade(revision: str) -> None:
    """Apply migrations up to a revision."""
    url = database_url()
    migrations.upgrade(url, revision)
    click.echo(f"database {redact(url)} upgraded to {revision}")


@db.command("downgrade")
@click.option("--revision", default="-1", show_default=True, help="Target revision ('base' removes everything).")
@reported
def db_downgrade(revision: str) -> None:
    """Revert migrations down to a revision."""
    url = database_url()
    migrations.downgrade(url, revision)
    click.echo(f"database {redact(url)} downgraded to {revision}")


# -- staff users -----------------------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """Back-office staff accounts."""


@user.command("create")
@click.option("--email", required=True, help="Login email address.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user may do.")
@click.option("--name", default=None, help="Display name.")
@click.option("--locale", default="de", type=click.Choice(["de", "en"]), show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@reported
def user_create(email: str, role: str, name: str | None, locale: str, password_stdin: bool) -> None:
    """Create a staff user (the password is prompted for, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    url = database_url()

    async def create() -> int:
        await require_current_schema(url)
        async with engine_for(url) as engine, transaction(engine) as session:
            created = await create_staff_user(
                UnitOfWork(session),
                email=email,
                password=password,
                role=role,
                name=name,
                locale=locale,
                actor=Actor.cli(),
            )
            return created.id

    user_id = asyncio.run(create())
    click.echo(f"created {role} user {email.strip().lower()} (id {user_id})")


# -- encryption keys -------------------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """The key ring of encrypted columns (SMPLAT_ENCRYPTION_KEYS): status and rotation."""


def _unreadable_hint(report: KeyReport) -> str:
    records = report.unreadable_records()
    return (
        f"{report.unreadable} unreadable by every key of the ring (left as they are; enter them again): "
        + ", ".join(records[:20])
        + (" …" if len(records) > 20 else "")
    )


@keys.command("status")
@reported
def keys_status() -> None:
    """Count the stored values under the first key, under older keys of the ring, and unreadable ones."""
    url = database_url()

    async def run() -> KeyReport:
        await require_current_schema(url)
        async with engine_for(url) as engine, transaction(engine) as session:
            return await key_status(session)

    report = asyncio.run(run())
    for column in report.columns:
        click.echo(
            f"{column.column}: {column.by_key[0]} under the first key, {column.under_older_keys} under older keys, "
            f"{len(column.unreadable_ids)} unreadable"
        )
    if report.unreadable:
        click.echo(_unreadable_hint(report))


@keys.command("rotate")
@reported
def keys_rotate() -> None:
    """Re-encrypt every encrypted value with the first key of the ring, in one transaction (audited)."""
    url = database_url()

    async def run() -> KeyReport:
        await require_current_schema(url)
        async with engine_for(url) as engine, unit_of_work(session_factory(engine)) as uow:
            return await rotate_keys(uow, actor=Actor.cli())

    report = asyncio.run(run())
    click.echo(
        f"re-encrypted {report.reencrypted} values with the first key of the ring; {report.unreadable} unreadable"
    )
    if report.unreadable:
        click.echo(_unreadable_hint(report))


# -- data ------------------------------------------------------------------------------------------------------


@main.command()
@click.option("--synthetic", is_flag=True, help="Add a two-year synthetic sales history for reports and benchmarks.")
@click.option(
    "--orders",
    type=click.IntRange(1, 10_000_000),
    help="Orders in the synthetic history (with --synthetic; default 100000).",
)
@click.option("--force", is_flag=True, help="Add the synthetic history even next to real orders.")
@reported
def seed(synthetic: bool, orders: int | None, force: bool) -> None:
    """Load the demo catalog, customers and orders (safe to repeat); with --synthetic a sales history on top."""
    from app.demo.seed import seed_demo_data  # noqa: PLC0415 - only this command needs the demo data

    url = database_url()
    if not synthetic:
        if orders is not None or force:
            raise fail("--orders and --force go with --synthetic")

        async def run() -> str:
            await require_current_schema(url)
            async with engine_for(url) as engine, transaction(engine) as session:
                return (await seed_demo_data(session)).summary()

        click.echo(asyncio.run(run()))
        return
    from app.demo.synthetic import RealOrdersError, seed_synthetic  # noqa: PLC0415 - only this command needs it

    asyncio.run(require_current_schema(url))
    try:
        history = seed_synthetic(url, orders or 100_000, force=force, log=lambda line: click.echo(line, err=True))
    except RealOrdersError as exc:
        raise fail(str(exc)) from exc
    click.echo(history.summary())


# -- providers -------------------------------------------------------------------------------------------------


@main.group()
def providers() -> None:
    """Upstream SMM providers."""


@providers.command("sync")
@reported
def providers_sync() -> None:
    """Fetch each active provider's service list and balance and record them (manual providers are skipped)."""
    from app.providers.sync import sync_providers  # noqa: PLC0415 - only this command talks to providers

    url = database_url()

    async def run() -> list[SyncOutcome]:
        await require_current_schema(url)
        async with engine_for(url) as engine:
            return await sync_providers(session_factory(engine), actor=Actor.cli())

    outcomes = asyncio.run(run())
    if not outcomes:
        click.echo("no active provider with an API to sync")
    for outcome in outcomes:
        click.echo(outcome.line(), err=not outcome.ok)
    failures = sum(1 for outcome in outcomes if not outcome.ok)
    if failures:
        raise fail(f"{failures} of {len(outcomes)} providers not synced")


# -- processes -------------------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Web worker processes.")
@reported
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app with granian."""
    from granian import Granian  # noqa: PLC0415
    from granian.constants import Interfaces  # noqa: PLC0415

    url = database_url()
    asyncio.run(require_current_schema(url))
    Granian(
        "app.asgi:create_app", factory=True, address=host, port=port, workers=workers, interface=Interfaces.ASGI
    ).serve()


@main.command()
@click.option("--concurrency", default=10, show_default=True, type=click.IntRange(1, 200))
@reported
def worker(concurrency: int) -> None:
    """Run the job worker: queued jobs, and jobs of workers that died put back in the queue."""
    from app.worker import run_worker  # noqa: PLC0415

    url = database_url()
    asyncio.run(require_current_schema(url))
    asyncio.run(run_worker(url, concurrency=concurrency))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reset", is_flag=True, help="Drop the demo database and start from fresh demo data.")
@reported
def demo(host: str, port: int, reset: bool) -> None:
    """Run everything locally with demo data on an embedded PostgreSQL."""
    from app.demo.runner import run_demo  # noqa: PLC0415

    run_demo(host=host, port=port, reset=reset)
