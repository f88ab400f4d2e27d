"""The anchor of ``bench/dispatch.py``: bare procrastinate jobs, each one httpx POST to the sandbox.

Run as a worker process by the benchmark (``python bench/_dispatch_anchor.py URL SANDBOX_URL CONCURRENCY``): no
SMPLaT code, one ``httpx.AsyncClient`` for the process (the advice of ``performance-notes.md``). Each job sends the
request a dispatch sends, an API v2 ``add`` (for a link of its own), so that the sandbox does the same work for
both sides: a cheaper request (``balance``) made the anchor measure the sandbox's speed more than ours.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys

import httpx
from procrastinate import App, PsycopgConnector

ANCHOR_QUEUE = "bench_anchor"
ANCHOR_TASK = "bench.anchor_post"
API_KEY = "bench-sandbox-key-0123456789abcdef"

app = App(connector=PsycopgConnector())
_client: list[httpx.AsyncClient] = []
_target: list[str] = []
_sent = itertools.count()


@app.task(name=ANCHOR_TASK, queue=ANCHOR_QUEUE)
async def anchor_post() -> None:
    link = f"https://www.instagram.com/p/anchor{os.getpid()}x{next(_sent)}/"
    order = {"key": API_KEY, "action": "add", "service": "1", "link": link, "quantity": "100"}
    response = await _client[0].post(_target[0], data=order)
    response.raise_for_status()
    if "order" not in response.json():
        raise RuntimeError(f"the sandbox refused an anchor order: {response.text}")


async def main(conninfo: str, sandbox_url: str, concurrency: int) -> None:
    _target.append(sandbox_url)
    async with httpx.AsyncClient(timeout=10.0) as client:
        _client.append(client)
        with app.replace_connector(PsycopgConnector(conninfo=conninfo, min_size=1, max_size=10)) as worker_app:
            async with worker_app.open_async():
                await worker_app.run_worker_async(queues=[ANCHOR_QUEUE], concurrency=concurrency)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
