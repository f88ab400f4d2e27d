"""Where profile counts come from: the ``ProfileStats`` interface and its loopback implementation.

The sandbox answers without any network: its follower count is the line's start count (or a number derived
from the handle) plus what the provider reported delivered, so the demo and tests draw the growth the delivery
makes. It is chosen by ``SMPLAT_INSTAGRAM_SOURCE=sandbox``; ``off`` records nothing and the page shows no chart.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from app.config import get_settings

# Paths on instagram.com that are not profiles: posts, reels, stories and Instagram's own pages.
NOT_PROFILES = frozenset({"p", "reel", "reels", "tv", "stories", "explore", "accounts", "direct", "about"})
HANDLE = re.compile(r"[a-z0-9._]{1,30}")
INSTAGRAM_HOSTS = frozenset({"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am"})


@dataclass(frozen=True)
class ProfileCounts:
    followers: int
    following: int
    media_count: int


@dataclass(frozen=True)
class ProfileTarget:
    """A profile to look at, with what we know from the delivery (a source may ignore it)."""

    handle: str
    line_id: int
    start_count: int | None
    delivered: int


class ProfileStats(Protocol):
    async def counts(self, target: ProfileTarget) -> ProfileCounts | None:
        """The profile's counts now; None when the source cannot see the profile."""
        ...


def profile_handle(link: str) -> str | None:
    """The handle of an Instagram profile link (``https://www.instagram.com/name/``), else None (posts, others)."""
    parts = urlsplit(link.strip())
    if (parts.hostname or "").lower() not in INSTAGRAM_HOSTS:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) != 1:
        return None
    handle = segments[0].removeprefix("@").lower()
    if handle in NOT_PROFILES or not HANDLE.fullmatch(handle):
        return None
    return handle


def _seed(handle: str, purpose: str, low: int, high: int) -> int:
    digest = hashlib.sha256(f"{purpose}:{handle}".encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low)


class SandboxProfileStats:
    """Counts that follow the delivery: start count (or a stable number per handle) plus what was delivered."""

    async def counts(self, target: ProfileTarget) -> ProfileCounts:
        base = target.start_count if target.start_count is not None else _seed(target.handle, "followers", 800, 9000)
        return ProfileCounts(
            followers=base + target.delivered,
            following=_seed(target.handle, "following", 100, 900),
            media_count=_seed(target.handle, "media", 10, 400),
        )


def configured_source() -> ProfileStats | None:
    """The source the settings name; None when snapshots are off."""
    if get_settings().instagram_source == "sandbox":
        return SandboxProfileStats()
    return None


def snapshots_enabled() -> bool:
    """Profile counts are recorded (``SMPLAT_INSTAGRAM_*``); otherwise no page speaks of them."""
    return configured_source() is not None
