"""The back-office order list on 1,000,000 orders: p50/p95 of SQLAdmin pages over HTTP against a bare query.

Run ``uv run python bench/admin_orders.py``. Uses ``SMPLAT_BENCH_DATABASE_URL`` (default: the local PostgreSQL,
database ``smplat_bench``), seeded once and reused. Serves the real app with granian, logs in as a staff admin
and requests list pages sequentially. The baseline is ``SELECT … FROM orders ORDER BY id DESC LIMIT 50`` on
asyncpg, in the same run; ``ratio`` is the p95 of list page 1 over the baseline's p95.

The database role must be a superuser (it creates the database and loads with foreign-key triggers off).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import asyncpg
import httpx
import psycopg
from _common import Latency, admin_login, log, served_app, time_calls
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
WARMUP = 5
SAMPLES = 100
BASELINE_SQL = (
    "SELECT id, number, customer_id, status, payment_status, gross, currency, created_at "
    "FROM orders ORDER BY id DESC LIMIT 50"
)


@dataclass(frozen=True)
class Probe:
    label: str
    params: dict[str, str]
    expect: str | None = None  # text the page must contain (checked once, before timing)


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


def probes(url: str) -> list[Probe]:
    """The pages to time; search terms are read from the seeded data (an older order, an ordinary customer)."""
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
        Probe("orders list page 1", {}),
        Probe("orders list page 500", {"page": "500"}),
        Probe("status filter partially_completed", {"status": "partially_completed"}),
        Probe("status filter completed", {"status": "completed"}),
        Probe("email search", {"search": email_fragment}, expect=email_fragment),
        Probe("order number search", {"search": number}, expect=number),
        Probe("order number fragment search", {"search": number_fragment}, expect=number),
    ]


def time_page(client: httpx.Client, probe: Probe) -> Latency:
    path = "/admin/order/list" + (f"?{urlencode(probe.params)}" if probe.params else "")

    def fetch() -> str:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        return response.text

    if probe.expect is not None and probe.expect not in fetch():
        raise RuntimeError(f"GET {path} does not show {probe.expect!r}")
    log(f"timing {path}")
    return time_calls(probe.label, fetch, warmup=WARMUP, samples=SAMPLES)


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
    pages = probes(url)
    with served_app(url, SECRET_KEY) as base_url, httpx.Client(base_url=base_url, timeout=60.0) as client:
        admin_login(client, STAFF_EMAIL, STAFF_PASSWORD)
        results = [time_page(client, probe) for probe in pages]
    reference = asyncio.run(baseline(url))
    for latency in [*results, reference]:
        print("\n".join(latency.lines()))
    print(f"ratio: {results[0].p95 / reference.p95:.1f}")


if __name__ == "__main__":
    main()
