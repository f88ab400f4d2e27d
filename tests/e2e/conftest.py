"""End-to-end infrastructure: a real server on seeded demo data, driven by Debian's Chromium through Playwright.

One server per test module (``live_server``), one browser per session, a fresh browser context per test. A
failing test leaves a full-page screenshot in ``test-artifacts/e2e/<test name>.png``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.accounts.commands import create_staff_user
from app.accounts.models import Role
from app.actors import Actor
from app.config import Settings, use_settings
from app.db.session import engine_for, transaction
from app.demo.seed import seed_demo_data
from app.orders.models import Order
from app.sandbox import FakeStripe
from app.uow import UnitOfWork
from tests.conftest import _truncate

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
ACTOR = Actor.system("e2e setup")
GERMAN_STAFF = "mitarbeiterin@e2e.example"  # a staff user whose language is German; the others' is English
SECRET_KEY = "e2e-secret-key-" + "k" * 25  # 40 characters
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
SERVER_START_TIMEOUT = 90.0  # a cold start on a busy 2-core machine (imports, template database) takes a while
# Where walks drop screenshots for people to look at (outside the repository); set it empty to switch off.
SHOTS = Path(shots) if (shots := os.environ.get("SMPLAT_E2E_SHOTS", "/tmp/e2e-shots")) else None


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    log: Path
    stripe: FakeStripe
    users: dict[Role, str] = field(default_factory=dict)  # role -> email of an English-speaking user
    orders: dict[str, str] = field(default_factory=dict)  # seed idempotency key -> order number

    def url(self, path: str) -> str:
        return self.base_url + path


# -- skipping and markers --------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    """Every e2e test skips cleanly where there is no system Chromium (Playwright's own browsers are not used)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures can tell in teardown whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# -- the server ------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _seed(url: str) -> tuple[dict[Role, str], dict[str, str]]:
    # Provider API keys are encrypted with a key derived from the secret key: seed with the server's.
    previous = use_settings(Settings(env="test", database_url=url, secret_key=SECRET_KEY))
    try:
        return await _seed_with_server_key(url)
    finally:
        use_settings(previous)


async def _seed_with_server_key(url: str) -> tuple[dict[Role, str], dict[str, str]]:
    async with engine_for(url) as engine:
        async with transaction(engine) as session:
            await seed_demo_data(session)
            users = {}
            uow = UnitOfWork(session)
            for role in Role:
                email = f"{role.value}@e2e.example"
                await create_staff_user(
                    uow, email=email, password=PASSWORD, role=role, name=f"E2E {role.value}", locale="en", actor=ACTOR
                )
                users[role] = email
            await create_staff_user(
                uow,
                email=GERMAN_STAFF,
                password=PASSWORD,
                role=Role.STAFF,
                name="E2E Mitarbeiterin",
                locale="de",
                actor=ACTOR,
            )
        async with transaction(engine) as session:
            rows = await session.execute(
                sa.select(Order.idempotency_key, Order.number).where(Order.idempotency_key.like("seed:%"))
            )
            orders = dict(rows.tuples().all())
    return users, orders


def _server_env(database_url: str, data_dir: Path, base_url: str, stripe: FakeStripe) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMPLAT_")}
    env.update(
        SMPLAT_ENV="test",
        SMPLAT_DATABASE_URL=database_url,
        SMPLAT_SECRET_KEY=SECRET_KEY,
        SMPLAT_DATA_DIR=str(data_dir),
        SMPLAT_BASE_URL=base_url,
        # Bookings are only queued here (no worker runs): the address is never called.
        SMPLAT_LEXOFFICE_API_KEY="e2e-lexoffice-key",
        SMPLAT_LEXOFFICE_BASE_URL="http://127.0.0.1:9/v1",
        PYTHONUNBUFFERED="1",
        **stripe.settings_env(),
    )
    return env


def _tail(log: Path, size: int = 4000) -> str:
    return log.read_text(errors="replace")[-size:]


async def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}:\n{_tail(log)}")
            try:
                if (await client.get(base_url + "/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not answer /health within {SERVER_START_TIMEOUT} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
async def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """The real app (``python -m app serve``) on the test database, emptied and seeded with the demo data, paying
    through the fake Stripe (its checkout page and signed webhooks, as in the demo)."""
    _truncate(database_url)
    workdir = tmp_path_factory.mktemp("e2e-server")
    log = workdir / "server.log"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    stripe = FakeStripe(api_key="sk_test_e2e", webhook_url=f"{base_url}/webhooks/stripe").start()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once per module, returns at once
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=ROOT,
            env=_server_env(database_url, workdir / "data", base_url, stripe),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        users, orders = await _seed(database_url)  # while the server starts: it only needs the schema
        await _wait_until_healthy(base_url, process, log)
        yield LiveServer(
            base_url=base_url, database_url=database_url, log=log, stripe=stripe, users=users, orders=orders
        )
    finally:
        _stop(process)
        stripe.stop()
        _truncate(database_url)


# -- the browser -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def browser(_require_chromium: None) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:150]


@pytest.fixture
async def page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A page in a fresh context (no cookies), English by default; screenshotted when the test fails."""
    context = await browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1400, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = await context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        failed = report is not None and report.failed
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            try:
                await page.screenshot(path=str(ARTIFACTS / f"{_safe_name(request.node.name)}.png"), full_page=True)
            except Exception as exc:  # a broken page must not hide the test's own failure
                sys.stderr.write(f"could not take the failure screenshot: {exc}\n")
            sys.stderr.write(f"--- server log (last lines) ---\n{_tail(live_server.log, 3000)}\n")
        await context.close()
    if script_errors and not failed:
        pytest.fail("JavaScript errors on the walked pages:\n" + "\n".join(script_errors))


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Any:
    """``await shot(page, "step")`` saves a full-page screenshot of a walk step into /tmp/e2e-shots/."""
    counter = iter(range(1, 100))
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)

    async def take(page: Any, step: str) -> None:
        if SHOTS is None:
            return
        name = f"{_safe_name(request.node.name)}-{next(counter):02d}-{_safe_name(step)}.png"
        await page.screenshot(path=str(SHOTS / name), full_page=True)

    return take


async def login(page: Any, server: LiveServer, role: Role | str, *, path: str = "/admin/") -> None:
    """Sign in through the login form as the seeded user of ``role`` (or with that email); ends on ``path``."""
    await page.goto(server.url("/admin/login"))
    await page.fill("#username", server.users[role] if isinstance(role, Role) else role)
    await page.fill("#password", PASSWORD)
    await page.click("form button[type=submit]")
    await page.wait_for_url(re.compile(r"/admin/?(\?.*)?$"))
    if path != "/admin/":
        await page.goto(server.url(path))


BROWSER_LOCALES = {"de": "de-DE", "en": "en-GB"}


@asynccontextmanager
async def sized_page(
    browser: Any, server: LiveServer, language: str, width: int = 1280, height: int = 720
) -> AsyncIterator[Any]:
    """A page in a fresh browser context of ``language`` ("de", "en") and the given size, closed afterwards."""
    context = await browser.new_context(
        base_url=server.base_url, viewport={"width": width, "height": height}, locale=BROWSER_LOCALES[language]
    )
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


def german_page(browser: Any, server: LiveServer, width: int = 1280, height: int = 720) -> Any:
    """A page in a fresh German browser context of the given size, closed afterwards."""
    return sized_page(browser, server, "de", width, height)
