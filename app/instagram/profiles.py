"""Which Instagram profiles an order is for, and what we count of them.

A profile link (``https://www.instagram.com/name/``) names the handle the snapshot job asks the configured source
about (app/instagram/graph_api.py); posts, reels and other pages are not profiles. ``SMPLAT_INSTAGRAM_SOURCE=off``
records nothing and no page speaks of counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    """A profile to look at, and the line that made us look (the latest one delivering to it)."""

    handle: str
    line_id: int


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


def snapshots_enabled() -> bool:
    """Profile counts are recorded (``SMPLAT_INSTAGRAM_*``); otherwise no page speaks of them."""
    return get_settings().instagram_source != "off"
