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
import sys
from pathlib import Path

from _catalog_seed import prepare_catalog_database
from _common import log, served_app, smplat_serve
from _wrk import Probe, measure, require_wrk

from app.config import Settings, use_settings

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/smplat_bench_storefront"
SECRET_KEY = "smplat-bench-secret-key-not-for-real-use"
WORKERS = 2
SERVICE_SLUG = "instagram-follower-de"
BASELINES = Path(__file__).resolve().parent / "baselines.py"


def hello_world(port: int) -> list[str]:
    return [sys.executable, str(BASELINES), "hello", "--port", str(port), "--workers", str(WORKERS)]


def ours(port: int) -> list[str]:
    return smplat_serve(port, WORKERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=3, help="measured seconds per URL and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the URLs (the median is printed)")
    parser.add_argument("--connections", type=int, default=50, help="wrk's open connections")
    args = parser.parse_args()
    require_wrk()
    url = os.environ.get("SMPLAT_BENCH_STOREFRONT_DATABASE_URL") or DEFAULT_URL
    use_settings(Settings(env="test", database_url=url, secret_key=SECRET_KEY))
    if prepare_catalog_database(url):
        log("seeded the demo catalog")
    with (
        served_app(url, SECRET_KEY, command=ours) as base_url,
        served_app(url, SECRET_KEY, command=hello_world, health_path="/") as hello_url,
    ):
        probes: dict[str, Probe] = {
            "landing": (f"{base_url}/", {}),
            "hello-world": (f"{hello_url}/", {}),
            "service page": (f"{base_url}/services/{SERVICE_SLUG}", {}),
        }
        figures = measure(probes, rounds=args.rounds, seconds=args.seconds, connections=args.connections)
    print(f"landing /: {figures['landing']:.0f} requests/s")
    print(f"service page /services/{SERVICE_SLUG}: {figures['service page']:.0f} requests/s")
    print(f"hello-world (bare Litestar, {WORKERS} workers): {figures['hello-world']:.0f} requests/s")
    print("duplicates: 0")
    print(f"ratio: {figures['landing'] / figures['hello-world']:.2f}")


if __name__ == "__main__":
    main()
