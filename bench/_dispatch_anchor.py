"""The anchor of ``bench/dispatch.py``: bare procrastinate jobs, each one httpx POST to the sandbox.

Run as a worker process by the benchmark (``python bench/_dispatch_anchor.py URL SANDBOX_URL CONCURRENCY``): no
SMPLaT code, one ``httpx.AsyncClient`` for the process (the advice of ``performance-notes.md``).
"""

from __future__ import annotations

import asyncio
import sys

import httpx
from procrastinate import App, PsycopgConnector

ANCHOR_QUEUE = "bench_anchor"
ANCHOR_TASK = "bench.anchor_post"
API_KEY = "bench-sandbox-key-0123456789abcdef"

app = App(connector=PsycopgConnector())
_client: list[httpx.AsyncClient] = []
_target: list[str] = []


@app.task(name=ANCHOR_TASK, queue=ANCHOR_QUEUE)
async def anchor_post() -> None:
    response = await _client[0].post(_target[0], data={"key": API_KEY, "action": "balance"})
    response.raise_for_status()


async def main(conninfo: str, sandbox_url: str, concurrency: int) -> None:
    _target.append(sandbox_url)
    async with httpx.AsyncClient(timeout=10.0) as client:
        _client.append(client)
        with app.replace_connector(PsycopgConnector(conninfo=conninfo, min_size=1, max_size=10)) as worker_app:
            async with worker_app.open_async():
                await worker_app.run_worker_async(queues=[ANCHOR_QUEUE], concurrency=concurrency)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
