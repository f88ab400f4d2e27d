"""Shared by the benchmarks: progress on stderr, latency figures, the real app served by granian, admin login."""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Latency:
    label: str
    samples_ms: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.samples_ms, n=20, method="inclusive")[18]

    def lines(self) -> list[str]:
        return [f"{self.label} p50: {self.p50:.2f} ms", f"{self.label} p95: {self.p95:.2f} ms"]


def time_calls(label: str, call: Callable[[], object], *, warmup: int, samples: int) -> Latency:
    """Run ``call`` sequentially: ``warmup`` times unmeasured, then ``samples`` times measured."""
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return Latency(label, timings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smplat_serve(port: int, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)]


@contextmanager
def served_app(
    database_url: str,
    secret_key: str,
    *,
    command: Callable[[int], list[str]] = smplat_serve,
    startup_timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
    health_path: str = "/health",
) -> Iterator[str]:
    """``smplat serve`` (granian, one worker) on a free port in a test environment; yields the base URL.

    ``command`` gives the argv of another server for a port (it must answer ``health_path``). ``secret_key`` must be
    the one the data were seeded with: provider API keys are encrypted with it.
    """
    port = free_port()
    env = {
        **os.environ,
        "SMPLAT_ENV": "test",
        "SMPLAT_DATABASE_URL": database_url,
        "SMPLAT_SECRET_KEY": secret_key,
        "SMPLAT_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(prefix="smplat-bench-server-", suffix=".log", delete=False) as server_log:
        log_path = Path(server_log.name)
        process = subprocess.Popen(
            command(port),
            cwd=ROOT,
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(process, base_url + health_path, startup_timeout, log_path)
        log(f"app serving at {base_url} (server log: {log_path})")
        yield base_url
    finally:
        _stop(process)
    log_path.unlink(missing_ok=True)


def _wait_healthy(process: subprocess.Popen[bytes], health_url: str, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(health_url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the app did not answer /health within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        log("the app did not stop on SIGINT; killing its process group")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def admin_login(client: httpx.Client, email: str, password: str) -> None:
    """Log in through the back-office form; the session cookie stays in ``client``."""
    page = client.get("/admin/login")
    page.raise_for_status()
    match = CSRF_INPUT.search(page.text)
    if match is None:
        raise RuntimeError("no csrf_token input on /admin/login")
    response = client.post("/admin/login", data={"username": email, "password": password, "csrf_token": match.group(1)})
    if response.status_code != 302:
        raise RuntimeError(f"admin login answered {response.status_code}, expected 302")
