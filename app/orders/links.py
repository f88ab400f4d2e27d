"""What a client may enter as the target of an order: a URL on the service's platform, or an @handle."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from app.catalog.models import PLATFORM_LABELS, Platform
from app.i18n import N_, Message

MAX_LINK_LENGTH = 500

PLATFORM_HOSTS: dict[Platform, frozenset[str]] = {
    Platform.INSTAGRAM: frozenset({"instagram.com", "instagr.am"}),
    Platform.TIKTOK: frozenset({"tiktok.com", "vm.tiktok.com", "vt.tiktok.com"}),
    Platform.YOUTUBE: frozenset({"youtube.com", "youtu.be"}),
    Platform.FACEBOOK: frozenset({"facebook.com", "fb.com", "fb.watch"}),
    Platform.X: frozenset({"x.com", "twitter.com"}),
    Platform.TELEGRAM: frozenset({"t.me", "telegram.me"}),
    Platform.SPOTIFY: frozenset({"open.spotify.com", "spotify.com"}),
}

PROFILE_URLS: dict[Platform, str] = {
    Platform.INSTAGRAM: "https://www.instagram.com/{}/",
    Platform.TIKTOK: "https://www.tiktok.com/@{}",
    Platform.YOUTUBE: "https://www.youtube.com/@{}",
    Platform.X: "https://x.com/{}",
    Platform.TELEGRAM: "https://t.me/{}",
}


class InvalidLink(ValueError):
    """A link the client must correct; ``text`` says how, translatable."""

    def __init__(self, text: str, **params: object) -> None:
        self.text = Message(text, params)
        super().__init__(str(self.text))


HANDLE = re.compile(r"^@?([A-Za-z0-9._-]{1,64})$")


def _host_matches(host: str, allowed: frozenset[str]) -> bool:
    host = host.lower().removeprefix("www.").removeprefix("m.")
    return host in allowed or any(host.endswith("." + a) for a in allowed)


def normalise_link(platform: Platform, raw: str) -> str:
    """The canonical link to send to the provider; raises InvalidLink with a message for the client."""
    text = (raw or "").strip()
    if not text:
        raise InvalidLink(N_("enter the link to your profile or post"))
    if len(text) > MAX_LINK_LENGTH:
        raise InvalidLink(N_("the link is longer than %(max)s characters"), max=MAX_LINK_LENGTH)
    handle = HANDLE.match(text)
    # "@name" is always a handle; a bare word without dots or slashes too ("name.de" is a host).
    if handle and (text.startswith("@") or "." not in text):
        if platform not in PROFILE_URLS:
            raise InvalidLink(N_("enter a full link starting with https://"))
        return PROFILE_URLS[platform].format(handle.group(1))
    if not re.match(r"^https?://", text, re.IGNORECASE):
        text = "https://" + text
    parts = urlsplit(text)
    if not parts.hostname or " " in text:
        raise InvalidLink(N_("this does not look like a link"))
    allowed = PLATFORM_HOSTS.get(platform)
    if allowed is not None and not _host_matches(parts.hostname, allowed):
        raise InvalidLink(N_("this is not a link to %(platform)s"), platform=PLATFORM_LABELS[platform])
    return text
