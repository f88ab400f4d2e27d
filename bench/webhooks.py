"""Stripe webhooks under load: distinct ``checkout.session.completed`` events/s against a bare endpoint.

Run ``uv run python bench/webhooks.py [--events 600] [--concurrency 32]``. Uses
``SMPLAT_BENCH_STOREFRONT_DATABASE_URL`` (default: the local PostgreSQL, database ``smplat_bench_storefront``,
the demo catalog seeded once). Every run places 2 x N new orders awaiting payment through the real commands
(``place_checkout_order`` + ``record_checkout``, as ``POST /checkout`` does): N for the app, N for the baseline.

The app is served by ``smplat serve --workers 2`` (granian) with a webhook secret; the baseline
(``bench/baselines.py webhook``: ``stripe.Webhook.construct_event``, insert the event id, one ``UPDATE`` marking
the order paid, one transaction) is served the same way, side by side; two rounds of N/2 orders each take them
in turn. Each gets N signed events (signed
as Stripe signs them, by the fake Stripe of ``app/sandbox/``) plus 30 % redeliveries of some of them, shuffled,
sent by one asyncio + httpx client with ``--concurrency`` requests in flight. Every answer must be 200.

Figures, one per line: distinct events/s of the app and of the baseline, ``duplicates: N`` (payments per order
beyond one, counted in the database; every order must end paid), and ``ratio`` (the last line) = app / baseline;
the target is ≥ 0.6. The client shares the 2 cores with the servers and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import sqlalchemy as sa
from _catalog_seed import prepare_catalog_database
from _common import log, served_app, smplat_serve

from app import models  # noqa: F401 - every mapper, so that relationships resolve
from app.actors import Actor
from app.catalog.models import Service
from app.config import Settings, use_settings
from app.db.session import engine_for, transaction
from app.db.urls import conninfo
from app.orders.checkout import CheckoutInput, place_checkout_order
from app.orders.models import OrderSource
from app.orders.placing import LineInput
from app.payments.commands import record_checkout
from app.payments.gateway import CheckoutSession
from app.payments.models import PaymentMethod
from app.sandbox.stripe import FakeStripe
from app.uow import UnitOfWork

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smplat_bench_storefront"
SECRET_KEY = "smplat-bench-secret-key-not-for-real-use"
WEBHOOK_SECRET = "whsec_bench_" + "0" * 24
STRIPE_KEY = "sk_test_bench"
WORKERS = 2
DUPLICATE_SHARE = 0.3
ORDERS_PER_TRANSACTION = 50
SERVICE_SLUG = "instagram-follower-de"
BASELINES = Path(__file__).resolve().parent / "baselines.py"


@dataclass(frozen=True)
class PendingOrder:
    order_id: int
    number: str
    session_id: str
    cents: int


async def place_orders(url: str, count: int, run: str) -> list[PendingOrder]:
    """Orders awaiting payment, each with its checkout session recorded, as the storefront leaves them."""
    orders: list[PendingOrder] = []
    actor = Actor.customer(label="bench")
    async with engine_for(url) as engine:
        async with transaction(engine) as session:
            service_id = await session.scalar(sa.select(Service.id).where(Service.slug == SERVICE_SLUG))
        for start in range(0, count, ORDERS_PER_TRANSACTION):
            async with transaction(engine) as session:
                uow = UnitOfWork(session)
                for index in range(start, min(start + ORDERS_PER_TRANSACTION, count)):
                    checkout = CheckoutInput(
                        email=f"bench.{run}.{index}@example.com",
                        items=[
                            LineInput(service_id=service_id, link="https://www.instagram.com/bench/", quantity=1000)
                        ],
                        locale="en",
                    )
                    placed = await place_checkout_order(uow, checkout, source=OrderSource.STOREFRONT, actor=actor)
                    order = placed.order
                    checkout_session = CheckoutSession(
                        id=f"cs_bench_{run}_{index}",
                        url=None,
                        status="open",
                        payment_status="unpaid",
                        amount_total=order.gross,
                        currency=order.currency,
                        reference=str(order.id),
                        payment_intent_id=None,
                        customer_id=None,
                        subscription_id=None,
                        metadata={"order_id": str(order.id), "order_number": order.number},
                    )
                    await record_checkout(
                        uow, order_id=order.id, session=checkout_session, actor=actor, method=PaymentMethod.STRIPE
                    )
                    cents = int((order.gross * 100).to_integral_value())
                    orders.append(PendingOrder(order.id, order.number, checkout_session.id, cents))
    return orders


def completed_events(fake: FakeStripe, orders: list[PendingOrder]) -> list[dict[str, object]]:
    """One ``checkout.session.completed`` per order, then 30 % redeliveries of random ones, shuffled."""
    events = [
        fake.event(
            "checkout.session.completed",
            {
                "id": order.session_id,
                "object": "checkout.session",
                "mode": "payment",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": order.cents,
                "currency": "eur",
                "client_reference_id": str(order.order_id),
                "payment_intent": f"pi_{secrets.token_hex(12)}",
                "metadata": {"order_id": str(order.order_id), "order_number": order.number},
            },
        )
        for order in orders
    ]
    deliveries = events + random.choices(events, k=round(len(events) * DUPLICATE_SHARE))
    random.shuffle(deliveries)
    return deliveries


async def replay(url: str, fake: FakeStripe, events: list[dict[str, object]], concurrency: int) -> float:
    """Seconds to deliver every event (signed just before sending); raises unless every answer is 200."""
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)
    failures: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body, headers = fake.signed_request(queue.get_nowait())
            response = await client.post(url, content=body, headers=headers)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:300]}")

    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} deliveries failed, e.g. {failures[0]}")
    return elapsed


def check_orders(url: str, orders: list[PendingOrder]) -> int:
    """Payments per order beyond one (the duplicates); raises unless every order ended paid."""
    ids = [order.order_id for order in orders]
    with psycopg.connect(conninfo(url)) as conn:
        paid = conn.execute("SELECT count(*) FROM orders WHERE id = ANY(%s) AND status = 'paid'", (ids,)).fetchone()
        extra = conn.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM payment "
            "WHERE order_id = ANY(%s) AND status = 'succeeded' GROUP BY order_id) AS per_order",
            (ids,),
        ).fetchone()
    if paid is None or paid[0] != len(orders):
        raise RuntimeError(f"{paid[0] if paid else 0} of {len(orders)} orders ended paid")
    return int(extra[0]) if extra else 0


def check_baseline(url: str, orders: list[PendingOrder]) -> None:
    ids = [order.order_id for order in orders]
    with psycopg.connect(conninfo(url)) as conn:
        paid = conn.execute("SELECT count(*) FROM orders WHERE id = ANY(%s) AND status = 'paid'", (ids,)).fetchone()
    if paid is None or paid[0] != len(orders):
        raise RuntimeError(f"the baseline paid {paid[0] if paid else 0} of {len(orders)} orders")


def baseline_server(port: int) -> list[str]:
    return [sys.executable, str(BASELINES), "webhook", "--port", str(port), "--workers", str(WORKERS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=600, help="distinct events (= pending orders) per server")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    args = parser.parse_args()
    url = os.environ.get("SMPLAT_BENCH_STOREFRONT_DATABASE_URL") or DEFAULT_URL
    use_settings(Settings(env="test", database_url=url, secret_key=SECRET_KEY))
    if prepare_catalog_database(url):
        log("seeded the demo catalog")
    run = secrets.token_hex(4)
    log(f"placing {2 * args.events} orders awaiting payment (run {run})")
    ours_orders = asyncio.run(place_orders(url, args.events, run + "a"))
    bare_orders = asyncio.run(place_orders(url, args.events, run + "b"))
    fake = FakeStripe(api_key=STRIPE_KEY, webhook_secret=WEBHOOK_SECRET)  # signs only: no server started
    env = {"SMPLAT_STRIPE_SECRET_KEY": STRIPE_KEY, "SMPLAT_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    halves = (slice(0, args.events // 2), slice(args.events // 2, args.events))
    ours_seconds = bare_seconds = 0.0
    with (
        served_app(url, SECRET_KEY, command=lambda port: smplat_serve(port, WORKERS), extra_env=env) as base_url,
        served_app(url, SECRET_KEY, command=baseline_server, extra_env=env) as bare_url,
    ):
        # Two rounds, in turn (the machine's load drifts: interleaving spreads it evenly over both).
        for half in halves:
            ours_events = completed_events(fake, ours_orders[half])
            log(f"replaying {len(ours_events)} deliveries to the app")
            ours_seconds += asyncio.run(replay(f"{base_url}/webhooks/stripe", fake, ours_events, args.concurrency))
            bare_events = completed_events(fake, bare_orders[half])
            log(f"replaying {len(bare_events)} deliveries to the bare endpoint")
            bare_seconds += asyncio.run(replay(f"{bare_url}/webhook", fake, bare_events, args.concurrency))
    duplicates = check_orders(url, ours_orders)
    check_baseline(url, bare_orders)
    ours_rate = args.events / ours_seconds
    bare_rate = args.events / bare_seconds
    print(f"app: {ours_rate:.0f} events/s")
    print(f"bare endpoint: {bare_rate:.0f} events/s")
    print(f"duplicates: {duplicates}")
    print(f"ratio: {ours_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
