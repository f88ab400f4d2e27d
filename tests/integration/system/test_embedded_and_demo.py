"""The newcomer's path: the embedded PostgreSQL, and ``smplat demo`` from start to SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa

from app.db.bootstrap import check_connection, ensure_database
from app.db.embedded import start_embedded
from app.db.engine import create_engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_embedded_postgres_starts_accepts_connections_and_stops(tmp_path: Path):
    server = start_embedded(tmp_path / "pg")
    url = server.url("smplat_probe")
    ensure_database(url)
    check_connection(url)

    async def query() -> int:
        engine = create_engine(url, null_pool=True)
        async with engine.connect() as connection:
            value = await connection.scalar(sa.text("SELECT 41 + 1"))
        await engine.dispose()
        return int(value)

    assert asyncio.run(query()) == 42
    pid = server._server.get_pid()
    server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_demo_serves_pages_and_stops_on_sigterm(tmp_path: Path):
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMPLAT_")}
    environment["SMPLAT_DATA_DIR"] = str(tmp_path / "smplat")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "demo", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.3)
        home = httpx.get(base + "/")
        assert home.status_code == 200 and "Instagram" in home.text
        assert httpx.get(base + "/admin/login").status_code == 200
        assert httpx.get(base + "/ready").json()["status"] == "ready"

        stop_sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        stopped_after = time.monotonic() - stop_sent
        output = process.stdout.read() if process.stdout else ""
        assert process.returncode == 0, output
        assert stopped_after < 10
        assert "admin@smplat.example" in output and "stopped" in output
        # The embedded PostgreSQL went down with the demo.
        postmaster = tmp_path / "smplat" / "pg" / "postmaster.pid"
        assert not postmaster.exists()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
