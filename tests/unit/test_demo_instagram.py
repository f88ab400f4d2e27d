"""The demo's Instagram: profiles grow with what the sandbox provider delivers, personal ones stay hidden, and
the Graph source reads them through the loopback Graph API."""

from __future__ import annotations

import asyncio

from app.demo.instagram import PERSONAL_PROFILES, DemoInstagram, stable_following, stable_media
from app.instagram.graph_api import GraphProfileStats, Lookup, LookupOutcome
from app.instagram.profiles import ProfileCounts
from app.sandbox.instagram_graph import SandboxInstagramGraph
from app.sandbox.provider import ManualClock, SandboxProvider, Simulation


def test_a_profile_grows_with_the_providers_delivery_from_its_seeded_count_and_a_personal_one_is_hidden():
    clock = ManualClock()
    provider = SandboxProvider(api_key="k", clock=clock, simulation=Simulation(start_after=5, delivery_seconds=100))
    world = DemoInstagram(provider)
    world.remember_seeded({"lena.schmidt": 1912})
    provider.panel.answer(
        {
            "key": "k",
            "action": "add",
            "service": "1",
            "link": "https://www.instagram.com/lena.schmidt/",
            "quantity": "1000",
        }
    )
    provider.panel.answer(
        {"key": "k", "action": "add", "service": "2", "link": "https://www.instagram.com/p/x/", "quantity": "500"}
    )

    before = world.account("lena.schmidt")
    clock.advance(55)  # half of the delivery
    half = world.account("lena.schmidt")

    assert before is not None and half is not None
    assert (before.followers, half.followers) == (1912, 2412)
    assert (half.follows, half.media) == (stable_following("lena.schmidt"), stable_media("lena.schmidt"))
    newcomer = world.account("new.shop")
    assert newcomer is not None and 800 <= newcomer.followers < 9000
    assert all(world.account(handle) is None for handle in PERSONAL_PROFILES)


def test_the_graph_source_reads_the_demo_world_through_the_loopback_api():
    world = DemoInstagram(SandboxProvider(api_key="k"))
    world.remember_seeded({"lena.schmidt": 1912})

    async def ask(graph: SandboxInstagramGraph) -> tuple[Lookup, Lookup]:
        async with GraphProfileStats(graph.url, graph.account_id, graph.access_token) as source:
            return await source.look_up("lena.schmidt"), await source.look_up(min(PERSONAL_PROFILES))

    with SandboxInstagramGraph(accounts=world.account) as graph:
        lena, personal = asyncio.run(ask(graph))

    expected = ProfileCounts(1912, stable_following("lena.schmidt"), stable_media("lena.schmidt"))
    assert lena.counts == expected and personal.outcome == LookupOutcome.NOT_VISIBLE
