"""``smplat demo``: embedded PostgreSQL, migrations, demo data, worker and web server in one process.

Ctrl-C or SIGTERM stops the web server and the worker, then the embedded PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import time
from decimal import Decimal
from pathlib import Path

import click
import structlog

from app.accounts.commands import create_staff_user, reset_staff_password, set_staff_active
from app.accounts.models import Role
from app.accounts.passwords import verify_password
from app.accounts.services import StaffUserService
from app.actors import Actor
from app.catalog.models import ServiceKind
from app.cli.errors import fail
from app.config import get_settings, reload_settings
from app.db import migrations
from app.db.bootstrap import EMBEDDED_DATABASE, drop_database, ensure_database, resolve_database
from app.db.embedded import EmbeddedPostgres
from app.db.session import engine_for, transaction
from app.db.urls import redact
from app.demo.catalog import SERVICES
from app.demo.instagram import DemoInstagram, seeded_followers, start_demo_instagram
from app.demo.seed import seed_demo_data, upstream_id
from app.providers.clients import register_sandbox
from app.sandbox import FakeStripe
from app.sandbox.lexoffice import SandboxLexoffice
from app.sandbox.provider import SandboxProvider, SandboxService, Simulation
from app.uow import UnitOfWork

log = structlog.get_logger(__name__)

DEMO_USERS = (
    ("admin@smplat.example", Role.ADMIN),
    ("staff@smplat.example", Role.STAFF),
    ("finance@smplat.example", Role.FINANCE),
)


def _private_file(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)


def demo_secret(data_dir: Path) -> str:
    """A per-machine secret for the demo, kept so that sessions survive restarts."""
    path = data_dir / "demo-secret-key"
    if not path.exists():
        _private_file(path, secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def demo_logins(data_dir: Path) -> dict[str, str]:
    path = data_dir / "demo-logins.json"
    logins: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if set(logins) != {email for email, _role in DEMO_USERS}:
        logins = {email: secrets.token_urlsafe(12) for email, _role in DEMO_USERS}
        _private_file(path, json.dumps(logins, indent=2))
    return logins


async def prepare(url: str, logins: dict[str, str], instagram: DemoInstagram | None = None) -> str:
    """Seed the demo data and make the printed demo logins work (created, or reset to the printed password);
    the demo's Instagram learns the seeded profiles' counts."""
    actor = Actor.system("smplat demo")
    async with engine_for(url) as engine, transaction(engine) as session:
        report = await seed_demo_data(session)
        if instagram is not None:
            instagram.remember_seeded(await seeded_followers(session))
        uow = UnitOfWork(session)
        users = StaffUserService(session=session)
        for email, role in DEMO_USERS:
            existing = await users.get_one_or_none(email=email)
            if existing is None:
                await create_staff_user(uow, email=email, password=logins[email], role=role, locale="de", actor=actor)
                continue
            if not verify_password(existing.password_hash, logins[email]) or existing.must_change_password:
                await reset_staff_password(
                    uow, user_id=existing.id, actor=actor, password=logins[email], require_change=False
                )
            await set_staff_active(uow, user_ids=[existing.id], active=True, actor=actor)
    return report.summary()


async def serve_until_stopped(host: str, port: int, url: str) -> None:
    from granian.constants import Interfaces  # noqa: PLC0415
    from granian.server.embed import Server  # noqa: PLC0415

    from app.asgi import create_app  # noqa: PLC0415
    from app.worker import run_worker  # noqa: PLC0415

    server = Server(create_app(), address=host, port=port, interface=Interfaces.ASGI, log_access=False)
    worker = asyncio.create_task(run_worker(url, install_signal_handlers=False), name="worker")
    web = asyncio.create_task(server.serve(), name="web")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopper = asyncio.create_task(stop.wait(), name="stop")
    done, _pending = await asyncio.wait({web, worker, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not stopper and task.exception() is not None:
            log.error("demo component stopped", component=task.get_name(), error=repr(task.exception()))
    click.echo("\nstopping…")
    server.stop()  # type: ignore[no-untyped-call]
    worker.cancel()
    await asyncio.wait({web, worker}, timeout=10)
    stopper.cancel()


def start_demo_payments(data_dir: Path, base_url: str) -> FakeStripe | None:
    """Without Stripe keys, the demo pays through the fake Stripe (app/sandbox/): its checkout page says it is a
    demo payment and sends signed webhooks to our real endpoint, the same path as production."""
    if os.environ.get("SMPLAT_STRIPE_SECRET_KEY"):
        return None
    fake = FakeStripe(
        api_key="sk_test_smplat_demo",
        webhook_secret=demo_webhook_secret(data_dir),
        webhook_url=base_url.rstrip("/") + "/webhooks/stripe",
        state_path=data_dir / "demo-stripe.json",
    ).start()
    os.environ.update(fake.settings_env())
    return fake


def start_demo_bookkeeping() -> SandboxLexoffice | None:
    """Without a Lexware Office key, the demo books invoices into the loopback Lexware Office (app/sandbox/)."""
    if os.environ.get("SMPLAT_LEXOFFICE_API_KEY"):
        return None
    fake = SandboxLexoffice(api_key="demo-lexoffice-key").start()
    os.environ.update(fake.settings_env())
    return fake


DEMO_SANDBOX_ADDRESS = "sandbox://smm"
DEMO_SANDBOX_KEY = "demo-key"  # the seeded sandbox provider's key (app/demo/seed.py)
# Gentle: demo orders start after 5 s and are delivered within a minute; one in ten stops short (Partial).
DEMO_SIMULATION = Simulation(start_after=5, delivery_seconds=60, partial_share=0.1)
SANDBOX_TYPES = {
    ServiceKind.PACKAGE: "Package",
    ServiceKind.CUSTOM_COMMENTS: "Custom Comments",
    ServiceKind.SUBSCRIPTION: "Subscriptions",
}


def demo_sandbox_services() -> list[SandboxService]:
    """The seeded provider services (same external ids, rates and limits), as the sandbox panel offers them."""
    return [
        SandboxService(
            int(upstream_id(position)),
            demo.name_en,
            Decimal(demo.provider_rate),
            demo.min_quantity,
            demo.max_quantity,
            type=SANDBOX_TYPES.get(demo.kind, "Default"),
            category=demo.category.capitalize(),
            refill=demo.refill_days > 0,
            cancel=demo.cancellable,
        )
        for position, demo in enumerate(SERVICES)
        if demo.provider_rate is not None
    ]


def start_demo_provider() -> SandboxProvider:
    """The sandbox SMM provider in real time, where the seeded sandbox provider's placeholder address points."""
    sandbox = SandboxProvider(
        api_key=DEMO_SANDBOX_KEY, services=demo_sandbox_services(), simulation=DEMO_SIMULATION
    ).start()
    register_sandbox(DEMO_SANDBOX_ADDRESS, sandbox.url)
    return sandbox


def stop_demo_provider(sandbox: SandboxProvider) -> None:
    register_sandbox(DEMO_SANDBOX_ADDRESS, None)
    sandbox.stop()


def demo_webhook_secret(data_dir: Path) -> str:
    path = data_dir / "demo-stripe-webhook-secret"
    if not path.exists():
        _private_file(path, "whsec_" + secrets.token_hex(24))
    return path.read_text(encoding="utf-8").strip()


def run_demo(*, host: str, port: int, reset: bool) -> None:
    started = time.monotonic()
    settings = get_settings()
    if settings.is_prod:
        raise fail("the demo does not run with SMPLAT_ENV=prod")
    if not os.environ.get("SMPLAT_SECRET_KEY"):
        os.environ["SMPLAT_SECRET_KEY"] = demo_secret(settings.data_dir)
    os.environ.setdefault("SMPLAT_BASE_URL", f"http://{host}:{port}")
    payments = start_demo_payments(settings.data_dir, os.environ["SMPLAT_BASE_URL"])
    bookkeeping = start_demo_bookkeeping()
    provider = start_demo_provider()
    instagram = start_demo_instagram(provider)  # follower charts from counts that follow the delivery
    settings = reload_settings()

    if reset and settings.database_url:
        raise fail("--reset only resets the embedded demo database; unset SMPLAT_DATABASE_URL to use it")
    url, embedded = resolve_database(settings)
    try:
        if reset and embedded is not None:
            drop_database(url)
            ensure_database(url)
            click.echo("demo database reset")
        migrations.upgrade(url)
        logins = demo_logins(settings.data_dir)
        summary = asyncio.run(prepare(url, logins, instagram[1] if instagram else None))
        _banner(
            host=host,
            port=port,
            url=url,
            embedded=embedded,
            payments=payments,
            logins=logins,
            summary=summary,
            seconds=time.monotonic() - started,
        )
        asyncio.run(serve_until_stopped(host, port, url))
    finally:
        if embedded is not None:
            embedded.stop()
        if payments is not None:
            payments.stop()
        if bookkeeping is not None:
            bookkeeping.stop()
        stop_demo_provider(provider)
        if instagram is not None:
            instagram[0].stop()
    click.echo("stopped")


def _payments_line(payments: FakeStripe | None) -> str:
    if payments is None:
        return "Stripe (SMPLAT_STRIPE_SECRET_KEY)"
    return f"demo payments, no money moves (fake Stripe at {payments.base_url})"


def _banner(
    host: str,
    port: int,
    url: str,
    embedded: EmbeddedPostgres | None,
    payments: FakeStripe | None,
    logins: dict[str, str],
    summary: str,
    seconds: float,
) -> None:
    where = f"embedded PostgreSQL in {embedded.data_dir} (database {EMBEDDED_DATABASE})" if embedded else redact(url)
    lines = [
        "",
        "SMPLaT demo",
        f"  storefront   http://{host}:{port}/",
        f"  back office  http://{host}:{port}/admin",
        f"  database     {where}",
        f"  payments     {_payments_line(payments)}",
        f"  {summary}",
        "",
        "  logins (saved in the data directory, reused on the next start):",
        *[f"    {role.value:<8} {email}  password: {logins[email]}" for email, role in DEMO_USERS],
        "",
        f"  ready in {seconds:.1f} s; stop with Ctrl-C",
        "",
    ]
    click.echo("\n".join(lines))
