"""One million orders for the back-office and report benchmarks, seeded once per database by the product's own
synthetic history (``app.demo.synthetic``: two years of orders with payments, refunds, invoices and credit notes).
"""

from __future__ import annotations

import psycopg
from _common import log

from app.db.bootstrap import ensure_database
from app.db.migrations import upgrade
from app.db.urls import conninfo
from app.demo.synthetic import seed_synthetic

ORDERS = 1_000_000


def bulk_orders_present(url: str) -> bool:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute("SELECT count(*) FROM orders").fetchone()
    return row is not None and row[0] >= ORDERS


def prepare_database(url: str) -> float | None:
    """Create, migrate and (once) seed the database; the seconds seeding took, or None if it was already seeded."""
    ensure_database(url)
    upgrade(url)
    if bulk_orders_present(url):
        log(f"reusing the {ORDERS:,} orders already seeded")
        return None
    history = seed_synthetic(url, ORDERS, force=True, log=log)
    log(history.summary())
    return history.seconds
