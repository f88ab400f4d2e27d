"""The back office on 1,000,000 orders: p50/p95 of its pages over HTTP, against stock SQLAdmin and a bare query.

Run ``uv run python bench/admin_orders.py``. Uses ``SMPLAT_BENCH_DATABASE_URL`` (default: the local PostgreSQL,
database ``smplat_bench``), seeded once and reused. Serves the real app with granian and logs in as a staff admin;
serves a stock SQLAdmin ``ModelView`` of the same ``orders`` (``bench/stock_sqladmin.py``) the same way. Requests
are sequential and interleaved: every round fetches each page once, so both servers meet the same load.

Figures, one per line: today's list probes (page 1 and 500, status filters, email and number searches), searches
for the commonest terms (an email domain, a surname, first names), the dashboard and the fulfillment board, stock
SQLAdmin's page 1, and ``SELECT … FROM orders ORDER BY id DESC LIMIT 50`` on asyncpg (the floor). The targets:
the common-term searches, dashboard and board within 2x our page 1 (``… over page 1``), and ``ratio`` (the last
line) = worst p95 of today's list probes / stock SQLAdmin's page-1 p95, at most 0.35.

The database role must be a superuser (it creates the database and loads with foreign-key triggers off).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
import psycopg
from _common import Latency, admin_login, log, served_app
from _orders_seed import prepare_database

from app.accounts.commands import create_staff_user, reset_staff_password
from app.accounts.models import Role
from app.accounts.services import LoginThrottle, StaffUserService
from app.actors import Actor
from app.config import Settings, use_settings
from app.db.session import engine_for, transaction
from app.db.urls import conninfo
from app.uow import UnitOfWork

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smplat_bench"
# Fixed, because the seeded data outlive a run: provider API keys in the database are encrypted with it.
SECRET_KEY = "smplat-bench-secret-key-not-for-real-use"
STAFF_EMAIL = "bench-admin@smplat.example"
STAFF_PASSWORD = "bench-admin-password-1"
STOCK_SERVER = Path(__file__).resolve().parent / "stock_sqladmin.py"
ORDER_NUMBER = re.compile(r"SMP-\d{4}-\d{6,}")
WARMUP = 5
SAMPLES = int(os.environ.get("SMPLAT_BENCH_SAMPLES") or 100)
BASELINE_SQL = (
    "SELECT id, number, customer_id, status, payment_status, gross, currency, created_at "
    "FROM orders ORDER BY id DESC LIMIT 50"
)


@dataclass(frozen=True, eq=False)  # hashed by identity: a key of the results
class Probe:
    label: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    expect: str | None = None  # text the page must contain (checked once, before timing)
    full_page: bool = False  # the page must list 50 orders (checked once, before timing)
    stock: bool = False  # served by stock SQLAdmin

    @property
    def url(self) -> str:
        return self.path + (f"?{urlencode(self.params)}" if self.params else "")


ORDERS = "/admin/order/list"


async def ensure_staff_admin(url: str) -> None:
    """The bench's admin account with a known password, not locked out by failures of an earlier run."""
    actor = Actor.system("bench")
    async with engine_for(url) as engine, transaction(engine) as session:
        uow = UnitOfWork(session)
        existing = await StaffUserService(session=session).get_one_or_none(email=STAFF_EMAIL)
        if existing is None:
            await create_staff_user(
                uow, email=STAFF_EMAIL, password=STAFF_PASSWORD, role=Role.ADMIN, locale="en", actor=actor
            )
        else:
            await reset_staff_password(
                uow, user_id=existing.id, actor=actor, password=STAFF_PASSWORD, require_change=False
            )
        await LoginThrottle(session).clear(login=STAFF_EMAIL, ip="127.0.0.1")


def list_probes(url: str) -> list[Probe]:
    """Today's list pages; search terms are read from the seeded data (an older order, an ordinary customer)."""
    with psycopg.connect(conninfo(url)) as conn:
        number_row = conn.execute("SELECT number FROM orders ORDER BY id DESC OFFSET 123456 LIMIT 1").fetchone()
        # The 2000th bulk customer: 50,000 were seeded last, the busiest first; this one has a few dozen orders.
        email_row = conn.execute("SELECT email FROM customer ORDER BY id DESC OFFSET 48000 LIMIT 1").fetchone()
    if number_row is None or email_row is None:
        raise RuntimeError("the seeded data has no order or customer to search for")
    number, email = str(number_row[0]), str(email_row[0])
    email_fragment = email.split("@", maxsplit=1)[0].split(".", 1)[1]  # "schmidt2031" of "lena.schmidt2031@web.de"
    number_fragment = number.rsplit("-", 1)[1]  # "876580" of "SMP-2026-876580"
    return [
        Probe("orders list page 1", ORDERS),
        Probe("orders list page 500", ORDERS, {"page": "500"}),
        Probe("status filter partially_completed", ORDERS, {"status": "partially_completed"}),
        Probe("status filter completed", ORDERS, {"status": "completed"}),
        Probe("email search", ORDERS, {"search": email_fragment}, expect=email_fragment),
        Probe("order number search", ORDERS, {"search": number}, expect=number),
        Probe("order number fragment search", ORDERS, {"search": number_fragment}, expect=number),
    ]


# What staff type all day: thousands of customers share these (the seed's domains, surnames and first names).
COMMON_PROBES = [
    Probe("email domain search gmx", ORDERS, {"search": "gmx"}, full_page=True),
    Probe("surname search schmidt", ORDERS, {"search": "schmidt"}, expect="Schmidt", full_page=True),
    Probe("first name search anna", ORDERS, {"search": "anna"}, expect="Anna", full_page=True),
    Probe("first name search jonas", ORDERS, {"search": "jonas"}, expect="Jonas", full_page=True),
    Probe("dashboard", "/admin/dashboard", expect='data-testid="orders-by-status"'),
    Probe("fulfillment board", "/admin/fulfillment", expect='data-testid="fulfillment-board"'),
]
STOCK_PAGE_1 = Probe("stock sqladmin orders list page 1", ORDERS, full_page=True, stock=True)


def stock_sqladmin(port: int) -> list[str]:
    return [sys.executable, str(STOCK_SERVER), "--port", str(port)]


def fetcher(client: httpx.Client, probe: Probe) -> Callable[[], str]:
    def fetch() -> str:
        response = client.get(probe.url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {probe.url} answered {response.status_code}")
        return response.text

    return fetch


def check(probe: Probe, page: str) -> None:
    if probe.expect is not None and probe.expect not in page:
        raise RuntimeError(f"GET {probe.url} does not show {probe.expect!r}")
    if probe.full_page and len(set(ORDER_NUMBER.findall(page))) < 50:
        raise RuntimeError(f"GET {probe.url} does not list 50 orders")


def time_interleaved(fetches: list[tuple[Probe, Callable[[], str]]]) -> dict[Probe, Latency]:
    """Each page checked and fetched WARMUP times, then SAMPLES rounds that fetch every page once, in turn."""
    for probe, fetch in fetches:
        check(probe, fetch())
        for _ in range(WARMUP):
            fetch()
    samples: dict[Probe, list[float]] = {probe: [] for probe, _ in fetches}
    for round_number in range(SAMPLES):
        if round_number % 20 == 0:
            log(f"round {round_number + 1} of {SAMPLES}")
        for probe, fetch in fetches:
            started = time.perf_counter()
            fetch()
            samples[probe].append((time.perf_counter() - started) * 1000)
    return {probe: Latency(probe.label, timings) for probe, timings in samples.items()}


async def baseline(url: str) -> Latency:
    conn = await asyncpg.connect(conninfo(url))
    try:
        samples: list[float] = []
        for attempt in range(WARMUP + SAMPLES):
            started = time.perf_counter()
            await conn.fetch(BASELINE_SQL)
            if attempt >= WARMUP:
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    return Latency("baseline asyncpg select limit 50", samples)


def main() -> None:
    url = os.environ.get("SMPLAT_BENCH_DATABASE_URL") or DEFAULT_URL
    # The demo seed runs in this process and encrypts the demo provider's API key with the server's secret.
    use_settings(Settings(env="test", database_url=url, secret_key=SECRET_KEY))
    seconds = prepare_database(url)
    if seconds is not None:
        log(f"seeding took {seconds:.1f} s")
    asyncio.run(ensure_staff_admin(url))
    ours = [*list_probes(url), *COMMON_PROBES]
    with (
        served_app(url, SECRET_KEY) as base_url,
        served_app(url, SECRET_KEY, command=stock_sqladmin) as stock_url,
        httpx.Client(base_url=base_url, timeout=60.0) as client,
        httpx.Client(base_url=stock_url, timeout=60.0) as stock_client,
    ):
        admin_login(client, STAFF_EMAIL, STAFF_PASSWORD)
        fetches = [(probe, fetcher(client, probe)) for probe in ours]
        results = time_interleaved([*fetches, (STOCK_PAGE_1, fetcher(stock_client, STOCK_PAGE_1))])
    reference = asyncio.run(baseline(url))
    for latency in [*results.values(), reference]:
        print("\n".join(latency.lines()))
    page_1 = results[ours[0]].p95
    worst_common = max(results[probe].p95 for probe in COMMON_PROBES)
    worst_list = max(results[probe].p95 for probe in ours if probe not in COMMON_PROBES)
    print(f"worst common-term search, dashboard or board over page 1 p95: {worst_common / page_1:.2f} x")
    print(f"worst of today's list probes p95: {worst_list:.2f} ms")
    print(f"ratio: {worst_list / results[STOCK_PAGE_1].p95:.2f}")


if __name__ == "__main__":
    main()
