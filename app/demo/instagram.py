"""The demo's Instagram: the loopback Graph API (app/sandbox/instagram_graph.py) over a small fiction.

Every profile is a business account except ``PERSONAL_PROFILES`` (the portal shows those from the provider's
counts, labelled). A profile's followers are what the seeded orders left it with (the provider's start count
plus what it reported delivered), or a stable number per handle for a profile new to the demo, plus what the
sandbox provider has delivered to it since the demo started; following and posts are stable numbers per handle.
So the charts grow with the delivery, through the same HTTP path and job as in production.
"""

from __future__ import annotations

import hashlib
import os

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Category, Platform, Service
from app.instagram.profiles import profile_handle
from app.orders.models import OrderLine
from app.sandbox.instagram_graph import SandboxAccount, SandboxInstagramGraph
from app.sandbox.provider import SandboxProvider

PERSONAL_PROFILES = frozenset({"cafe.lindenblatt"})  # a seeded order for it is delivered while the demo runs


def stable_count(handle: str, purpose: str, low: int, high: int) -> int:
    """A number in [low, high) fixed by handle and purpose: the same profile looks the same every start."""
    digest = hashlib.sha256(f"{purpose}:{handle}".encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low)


def stable_following(handle: str) -> int:
    return stable_count(handle, "following", 100, 900)


def stable_media(handle: str) -> int:
    return stable_count(handle, "media", 10, 400)


class DemoInstagram:
    """``account(handle)`` for the sandbox Graph API: seeded counts plus the sandbox provider's delivery."""

    def __init__(self, provider: SandboxProvider) -> None:
        self._provider = provider
        self._seeded: dict[str, int] = {}

    def remember_seeded(self, followers: dict[str, int]) -> None:
        self._seeded = dict(followers)

    def account(self, handle: str) -> SandboxAccount | None:
        if handle in PERSONAL_PROFILES:
            return None
        base = self._seeded.get(handle, stable_count(handle, "followers", 800, 9000))
        return SandboxAccount(
            followers=base + self._delivered(handle), follows=stable_following(handle), media=stable_media(handle)
        )

    def _delivered(self, handle: str) -> int:
        panel = self._provider.panel
        return sum(
            order.quantity - int(panel.status_of(order.order_id)["remains"])
            for order in panel.orders
            if order.link is not None and profile_handle(order.link) == handle
        )


async def seeded_followers(session: AsyncSession) -> dict[str, int]:
    """Per profile handle: the latest seeded line's start count plus what the provider reported delivered."""
    rows = await session.execute(
        sa.select(OrderLine.link, OrderLine.start_count, OrderLine.quantity, OrderLine.remains)
        .join(Service, Service.id == OrderLine.service_id)
        .join(Category, Category.id == Service.category_id)
        .where(Category.platform == Platform.INSTAGRAM, OrderLine.start_count.is_not(None))
        .order_by(OrderLine.id)
    )
    followers: dict[str, int] = {}
    for link, start_count, quantity, remains in rows:
        handle = profile_handle(link)
        if handle is not None:
            followers[handle] = start_count + (max(0, quantity - remains) if remains is not None else 0)
    return followers


def start_demo_instagram(provider: SandboxProvider) -> tuple[SandboxInstagramGraph, DemoInstagram] | None:
    """Unless an Instagram source is configured, the demo counts profiles through the loopback Graph API."""
    if os.environ.get("SMPLAT_INSTAGRAM_SOURCE"):
        return None
    world = DemoInstagram(provider)
    graph = SandboxInstagramGraph(accounts=world.account).start()
    os.environ.update(graph.settings_env())
    return graph, world
