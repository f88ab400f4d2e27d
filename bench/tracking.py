"""The client's tracking page under load: requests/s of ``GET /track/{token}`` against a bare page of the same data.

Run ``uv run python bench/tracking.py [--seconds 5] [--rounds 1] [--connections 20]``. Uses
``SMPLAT_BENCH_STOREFRONT_DATABASE_URL`` (default: the local PostgreSQL, database ``smplat_bench_storefront``,
the demo catalog seeded once). Every run places one new order through the real commands: three lines (one
queued, one in progress, one completed) and 30 events in its timeline.

The app is served by ``smplat serve --workers 2`` (granian); the baseline (``bench/_tracking_bare.py``: asyncpg,
three queries — the order by its token hash, its lines, its events — and one Jinja template of about the same
HTML size) is served the same way, side by side. ``wrk`` (Debian package) drives one URL at a time: after a
one-second warm-up of each, ``--rounds`` rounds take the URLs in turn and the median of each is printed. The
JSON poll is measured as the page's script sends it once nothing changed: ``Accept: application/json`` with the
ETag of its last answer in ``If-None-Match`` (every answer must be 304).

Figures, one per line: requests/s of the page, of the bare page and of the 304 poll, the page's and the bare
page's size, and ``ratio`` (the last line) = page / bare page; the target is ≥ 0.7.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from pathlib import Path

import httpx
import sqlalchemy as sa
from _catalog_seed import prepare_catalog_database
from _common import log, served_app, smplat_serve
from _wrk import Probe, measure, require_wrk

from app import models  # noqa: F401 - every mapper, so that relationships resolve
from app.actors import Actor
from app.catalog.models import Service
from app.config import Settings, use_settings
from app.customers.models import Customer
from app.db.session import engine_for, transaction
from app.invoicing.tax import TaxDecision
from app.orders import commands, lifecycle
from app.orders.models import OrderEvent, OrderSource
from app.orders.placing import LineInput
from app.orders.states import LineStatus
from app.uow import UnitOfWork

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smplat_bench_storefront"
SECRET_KEY = "smplat-bench-secret-key-not-for-real-use"
WORKERS = 2
EVENTS = 30
BARE = Path(__file__).resolve().parent / "_tracking_bare.py"
ACTOR = Actor.system("bench tracking")
LINES = [  # service slug, quantity, link ({run}: one running upstream order per link), path from queued, remains
    ("instagram-follower-de", 2500, "https://www.instagram.com/bench{run}/", (), None),
    (
        "instagram-likes",
        3000,
        "https://www.instagram.com/p/Bench{run}/",
        ("dispatching", "dispatched", "in_progress"),
        900,
    ),
    ("tiktok-views", 10000, "https://www.tiktok.com/@bench/video/{run}", ("dispatching", "dispatched", "completed"), 0),
]


async def place_tracked_order(url: str) -> str:
    """A paid order with three lines in different states and ``EVENTS`` events; returns its tracking token."""
    async with engine_for(url) as engine, transaction(engine) as session:
        uow = UnitOfWork(session)
        customer_id = await session.scalar(sa.select(Customer.id).order_by(Customer.id).limit(1))
        services = {s.slug: s.id for s in (await session.scalars(sa.select(Service))).unique().all()}
        assert customer_id is not None
        run = secrets.token_hex(6)
        placed = await commands.place_order(
            uow,
            customer_id=customer_id,
            items=[
                LineInput(service_id=services[slug], quantity=q, link=link.format(run=run))
                for slug, q, link, _p, _r in LINES
            ],
            source=OrderSource.STOREFRONT,
            actor=ACTOR,
            tax=TaxDecision.domestic(),
            idempotency_key=f"bench-tracking-{run}",
        )
        order = await commands.mark_paid(uow, order_id=placed.order.id, actor=ACTOR)
        for line, (_slug, _q, _link, path, remains) in zip(order.lines, LINES, strict=True):
            ((locked_order, locked_line),) = await lifecycle.lock_lines(uow, [line.id])
            for state in path:
                if state == "dispatched":
                    locked_line.provider_order_id = f"bench-{run}-{line.position}"
                lifecycle.set_line_status(uow, locked_order, locked_line, LineStatus(state), ACTOR)
            locked_line.remains = remains
        await uow.flush()
        count = await session.scalar(sa.select(sa.func.count()).where(OrderEvent.order_id == order.id)) or 0
        for n in range(EVENTS - count):
            await commands.add_note(uow, order_ids=[order.id], actor=ACTOR, note=f"bench note {n + 1}")
        assert placed.tracking_token is not None
        return placed.tracking_token


def bare(port: int) -> list[str]:
    return [sys.executable, str(BARE), "--port", str(port), "--workers", str(WORKERS)]


def ours(port: int) -> list[str]:
    return smplat_serve(port, WORKERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="measured seconds per probe and round")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over the probes (the median is printed)")
    parser.add_argument("--connections", type=int, default=20, help="wrk's open connections")
    args = parser.parse_args()
    require_wrk()
    url = os.environ.get("SMPLAT_BENCH_STOREFRONT_DATABASE_URL") or DEFAULT_URL
    use_settings(Settings(env="test", database_url=url, secret_key=SECRET_KEY))
    if prepare_catalog_database(url):
        log("seeded the demo catalog")
    token = asyncio.run(place_tracked_order(url))
    log(f"placed an order with {len(LINES)} lines and {EVENTS} events")
    with (
        served_app(url, SECRET_KEY, command=ours) as base_url,
        served_app(url, SECRET_KEY, command=bare) as bare_url,
    ):
        page, plain = httpx.get(f"{base_url}/track/{token}?lang=en"), httpx.get(f"{bare_url}/track/{token}")
        poll = httpx.get(f"{base_url}/track/{token}", headers={"Accept": "application/json"})
        for response in (page, plain, poll):
            response.raise_for_status()
        unchanged = {"Accept": "application/json", "If-None-Match": poll.headers["etag"]}
        if httpx.get(f"{base_url}/track/{token}", headers=unchanged).status_code != 304:
            raise RuntimeError("the JSON poll with the current ETag was not answered 304")
        probes: dict[str, Probe] = {
            "page": (f"{base_url}/track/{token}", {}),
            "bare": (f"{bare_url}/track/{token}", {}),
            "poll": (f"{base_url}/track/{token}", unchanged),
        }
        figures = measure(probes, rounds=args.rounds, seconds=args.seconds, connections=args.connections)
    print(f"tracking page /track/{{token}}: {figures['page']:.0f} requests/s")
    print(f"bare page (asyncpg + Jinja, 3 queries, {WORKERS} workers): {figures['bare']:.0f} requests/s")
    print(f"JSON poll answered 304: {figures['poll']:.0f} requests/s")
    print(f"tracking page size: {len(page.content) / 1024:.1f} KiB")
    print(f"bare page size: {len(plain.content) / 1024:.1f} KiB")
    print(f"ratio: {figures['page'] / figures['bare']:.2f}")


if __name__ == "__main__":
    main()
