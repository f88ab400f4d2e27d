"""Reports on a million orders (about 1.45 million lines, two years): each report end to end against tuned SQL.

Run ``uv run python bench/reports.py [--samples 5]``. Uses ``SMPLAT_BENCH_REPORTS_DATABASE_URL`` (default: the
local PostgreSQL, database ``smplat_bench_reports``), seeded once by ``bench/_orders_seed.py`` with the product's
synthetic history (``app.demo.synthetic``: the orders of the back-office benchmark with their payments, refunds,
invoices and credit notes, the daily totals counted afresh).

Each report runs as the admin page and the CLI run it (``reports.catalog``: load per-day aggregates by ``COPY``,
compute in Polars) over the whole two years, and ``kpis-month`` (the success metrics) over the last whole month,
as the reports page opens; the baseline is the tuned bare SQL ``GROUP BY`` that computes the
same monthly revenue (orders paid per Berlin month: count, net, VAT, gross; statistics on its month expression,
no JIT) and fetches its rows, on the same connection, interleaved with the reports. Times are medians of
``--samples`` runs.

Figures, one per line: each report's time, the baseline's, peak RSS of this process, ``duplicates: 0`` (the
monthly revenue report's totals must equal the baseline's to the cent, else the bench fails), and ``ratio`` (the
last line) = monthly revenue report / tuned SQL; the target is at most 1.0, every report at most 2 s, peak RSS
at most 600 MB.
"""

from __future__ import annotations

import sys

# This file's name is the product package's: look for ``reports`` (and everything else) in the project first.
sys.path.append(sys.path.pop(0))

import argparse
import asyncio
import os
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import psycopg
import sqlalchemy as sa
from _common import log
from _orders_seed import prepare_database

from app.db.read_only import read_only_session
from app.db.session import engine_for
from app.db.urls import conninfo
from reports.catalog import REPORTS, Report
from reports.periods import DateRange, Grouping
from reports.revenue import Selection

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smplat_bench_reports"

TUNED_MONTHLY_SQL = """
SELECT date_trunc('month', paid_at AT TIME ZONE 'Europe/Berlin') AS month, currency,
       count(*), sum(net), sum(tax), sum(gross)
FROM orders WHERE paid_at >= $1 AND paid_at < $2
GROUP BY 1, 2 ORDER BY 1, 2
"""


def tune_baseline(url: str) -> None:
    """Statistics on the baseline's month expression, so PostgreSQL plans a parallel hash aggregate for it."""
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute(
            "CREATE STATISTICS IF NOT EXISTS bench_orders_paid_month "
            "ON (date_trunc('month', paid_at AT TIME ZONE 'Europe/Berlin')) FROM orders"
        )
        conn.execute("ANALYZE orders")


async def timed(call: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


async def run(url: str, samples: int) -> list[str]:
    async with engine_for(url) as engine:
        async with engine.connect() as conn:
            first, last = (await conn.execute(sa.text("SELECT min(paid_at), max(paid_at) FROM orders"))).one()
        period = DateRange(first.date(), last.date())
        log(f"period {period.first} .. {period.last}")
        cases = cases_for(period)
        times: dict[str, list[float]] = {name: [] for name in cases}
        baseline: list[float] = []
        for sample in range(samples):
            async with read_only_session(engine) as session:
                raw = (await (await session.connection()).get_raw_connection()).driver_connection
                assert raw is not None
                await raw.execute("SET LOCAL jit = off")
                seconds, rows = await timed(lambda c=raw: c.fetch(TUNED_MONTHLY_SQL, period.start, period.end))
                baseline.append(seconds)
                for name, (report, selection) in cases.items():
                    seconds, frame = await timed(lambda r=report, s=selection: r.build(session, s, str))
                    times[name].append(seconds)
                    if name == "revenue" and sample == 0:
                        check_totals(frame, rows)
            log(f"sample {sample + 1}: revenue {times['revenue'][-1]:.3f} s, tuned SQL {baseline[-1]:.3f} s")
    lines = [f"{name}: {statistics.median(values):.3f} s" for name, values in times.items()]
    tuned = statistics.median(baseline)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        *lines,
        f"tuned SQL monthly revenue: {tuned:.3f} s",
        f"peak RSS: {peak_mb:.0f} MB",
        "duplicates: 0",
        f"ratio: {statistics.median(times['revenue']) / tuned:.2f}",
    ]


def cases_for(period: DateRange) -> dict[str, tuple[Report, Selection]]:
    """Every report over the whole period in its own grouping (revenue per month), and the success metrics of the
    period's last whole month as the reports page opens on them."""
    cases = {
        name: (report, Selection(period, Grouping.MONTH if name == "revenue" else report.grouping))
        for name, report in REPORTS.items()
    }
    last = period.last.replace(day=1) - timedelta(days=1)
    cases["kpis-month"] = (REPORTS["kpis"], Selection(DateRange(last.replace(day=1), last), None))
    return cases


def check_totals(frame: object, rows: list[object]) -> None:
    """The report's net, VAT and gross per month equal the bare SQL's to the cent."""
    import polars as pl  # noqa: PLC0415 - only the check needs it

    assert isinstance(frame, pl.DataFrame)
    ours = {
        (period, currency): (orders, net, vat, gross)
        for period, currency, orders, net, vat, gross in frame.select(
            "period", "currency", "orders", "net", "vat", "gross"
        ).rows()
        if orders
    }
    theirs = {(f"{month:%Y-%m}", currency): (n, net, tax, gross) for month, currency, n, net, tax, gross in rows}  # type: ignore[misc]
    if ours != theirs:
        wrong = sorted(set(ours.items()) ^ set(theirs.items()))[:4]
        raise SystemExit(f"the revenue report disagrees with the bare SQL: {wrong}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("SMPLAT_BENCH_REPORTS_DATABASE_URL", DEFAULT_URL)
    seeded = prepare_database(url)
    if seeded is not None:
        log(f"seeded in {seeded:.0f} s")
    tune_baseline(url)
    for line in asyncio.run(run(url, args.samples)):
        print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
