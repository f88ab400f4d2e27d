"""The loopback Graph API for tests: a world of business accounts tests change, and settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db.engine import session_factory
from app.instagram.graph_api import GraphProfileStats
from app.instagram.snapshots import RunReport, record_snapshots
from app.sandbox.instagram_graph import GraphFaultRule, SandboxAccount, SandboxInstagramGraph

ACCOUNT_ID = "17841400000000001"
TOKEN = "sandbox-instagram-token"


def graph_on(settings: Settings, base: str = "https://graph.invalid/v25.0") -> Settings:
    """``settings`` with the Graph source configured (at ``base``)."""
    return replace(
        settings,
        instagram_source="graph",
        instagram_api_base=base,
        instagram_account_id=ACCOUNT_ID,
        instagram_access_token=TOKEN,
    )


@contextmanager
def loopback_graph(
    world: dict[str, SandboxAccount], faults: list[GraphFaultRule] | None = None
) -> Iterator[SandboxInstagramGraph]:
    with SandboxInstagramGraph(accounts=world.get, account_id=ACCOUNT_ID, access_token=TOKEN, faults=faults) as graph:
        yield graph


async def run_job(
    engine: AsyncEngine,
    graph: SandboxInstagramGraph,
    settings: Settings,
    *,
    token: str = TOKEN,
    answer_within: float = 5.0,
) -> RunReport:
    """One run of the snapshot job against ``graph``."""
    async with GraphProfileStats(graph.url, ACCOUNT_ID, token, timeout=httpx.Timeout(answer_within)) as source:
        return await record_snapshots(session_factory(engine), source, graph_on(settings, graph.url))
