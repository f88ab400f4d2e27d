"""Requests/s measured by ``wrk`` (Debian package), shared by the benches that load a served page."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys

from _common import log

REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
# A URL and the headers every request to it carries.
Probe = tuple[str, dict[str, str]]


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (Debian package), then run this again")


def wrk(url: str, *, seconds: int, connections: int, headers: dict[str, str] | None = None) -> float:
    """Requests/s that ``wrk`` measured for ``url``; raises if any answer was an error."""
    options = [part for name, value in (headers or {}).items() for part in ("-H", f"{name}: {value}")]
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", *options, url], capture_output=True, text=True, check=True
    )
    if ERRORS.search(result.stdout):
        raise RuntimeError(f"wrk saw errors on {url}:\n{result.stdout}")
    match = REQUESTS_PER_SECOND.search(result.stdout)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{result.stdout}")
    return float(match.group(1))


def measure(probes: dict[str, Probe], *, rounds: int, seconds: int, connections: int) -> dict[str, float]:
    """The median requests/s of each probe over ``rounds`` rounds that take the probes in turn (the machine's load
    drifts: interleaving spreads it evenly), after a one-second warm-up of each."""
    for url, headers in probes.values():
        wrk(url, seconds=1, connections=connections, headers=headers)
    samples: dict[str, list[float]] = {label: [] for label in probes}
    for round_number in range(rounds):
        log(f"round {round_number + 1} of {rounds}")
        for label, (url, headers) in probes.items():
            samples[label].append(wrk(url, seconds=seconds, connections=connections, headers=headers))
    return {label: statistics.median(values) for label, values in samples.items()}
