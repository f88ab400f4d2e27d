"""The storefront under load: requests/s of the landing page and a service page against a bare Litestar app.

Run ``uv run python bench/storefront.py [--seconds 3] [--rounds 3] [--connections 50]``. Uses
``SMPLAT_BENCH_STOREFRONT_DATABASE_URL`` (default: the local PostgreSQL, database ``smplat_bench_storefront``),
migrated and seeded with the demo catalog once, then reused. Serves the real app with ``smplat serve --workers 2``
(granian) and a Litestar hello-world app (one route, no middleware, ``bench/baselines.py hello``) with the same
worker count, side by side, and drives them with ``wrk`` (Debian package ``wrk``; a native load generator: a
Python client cannot produce this load), one URL at a time: after a one-second warm-up of each, ``--rounds``
rounds take the URLs in turn and the median of each is printed.

Figures, one per line: requests/s of ``/``, ``/services/{slug}`` and the hello-world app, ``duplicates: 0`` (no
page was answered with an error), and ``ratio`` (the last line) = landing / hello-world; the target is ≥ 0.5.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from _catalog_seed import prepare_catalog_database
from _common import log, served_app, smplat_serve

from app.config import Settings, use_settings

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smplat_bench_storefront"
SECRET_KEY = "smplat-bench-secret-key-not-for-real-use"
WORKERS = 2
SERVICE_SLUG = "instagram-follower-de"
BASELINES = Path(__file__).resolve().parent / "baselines.py"
REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def hello_world(port: int) -> list[str]:
    return [sys.executable, str(BASELINES), "hello", "--port", str(port), "--workers", str(WORKERS)]


def ours(port: int) -> list[str]:
    return smplat_serve(port, WORKERS)


def wrk(url: str, *, seconds: int, connections: int) -> float:
    """Requests/s that ``wrk`` measured for ``url``; raises if any answer was an error."""
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    )
    errors = ERRORS.search(result.stdout)
    if errors:
        raise RuntimeError(f"wrk saw errors on {url}:\n{result.stdout}")
    match = REQUESTS_PER_SECOND.search(result.stdout)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{result.stdout}")
    return float(match.group(1))


def measure(urls: dict[str, str], *, rounds: int, seconds: int, connections: int) -> dict[str, float]:
    """The median requests/s of each URL over ``rounds`` rounds that take the URLs in turn (the machine's load
    drifts: interleaving spreads it evenly), after a one-second warm-up of each."""
    for url in urls.values():
        wrk(url, seconds=1, connections=connections)
    samples: dict[str, list[float]] = {label: [] for label in urls}
    for round_number in range(rounds):
        log(f"round {round_number + 1} of {rounds}")
        for label, url in urls.items():
            samples[label].append(wrk(url, seconds=seconds, connections=connections))
    return {label: statistics.median(values) for label, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=3, help="measured seconds per URL and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the URLs (the median is printed)")
    parser.add_argument("--connections", type=int, default=50, help="wrk's open connections")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (Debian package), then run this again")
    url = os.environ.get("SMPLAT_BENCH_STOREFRONT_DATABASE_URL") or DEFAULT_URL
    use_settings(Settings(env="test", database_url=url, secret_key=SECRET_KEY))
    if prepare_catalog_database(url):
        log("seeded the demo catalog")
    with (
        served_app(url, SECRET_KEY, command=ours) as base_url,
        served_app(url, SECRET_KEY, command=hello_world, health_path="/") as hello_url,
    ):
        urls = {
            "landing": f"{base_url}/",
            "hello-world": f"{hello_url}/",
            "service page": f"{base_url}/services/{SERVICE_SLUG}",
        }
        figures = measure(urls, rounds=args.rounds, seconds=args.seconds, connections=args.connections)
    print(f"landing /: {figures['landing']:.0f} requests/s")
    print(f"service page /services/{SERVICE_SLUG}: {figures['service page']:.0f} requests/s")
    print(f"hello-world (bare Litestar, {WORKERS} workers): {figures['hello-world']:.0f} requests/s")
    print("duplicates: 0")
    print(f"ratio: {figures['landing'] / figures['hello-world']:.2f}")


if __name__ == "__main__":
    main()
