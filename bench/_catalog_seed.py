"""A database with the demo catalog (and no bulk orders) for the storefront and webhook benchmarks."""

from __future__ import annotations

import asyncio

import psycopg

from app.db.bootstrap import ensure_database
from app.db.migrations import upgrade
from app.db.session import engine_for, transaction
from app.db.urls import conninfo
from app.demo.seed import seed_demo_data


def catalog_present(url: str) -> bool:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute("SELECT count(*) FROM service WHERE is_active").fetchone()
    return bool(row and row[0])


async def _seed(url: str) -> None:
    async with engine_for(url) as engine, transaction(engine) as session:
        await seed_demo_data(session)


def prepare_catalog_database(url: str) -> bool:
    """Create, migrate and (once) seed the demo data; True if it was seeded now."""
    ensure_database(url)
    upgrade(url)
    if catalog_present(url):
        return False
    asyncio.run(_seed(url))
    return True
