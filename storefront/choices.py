"""Choices the public forms offer, in the page's language."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

from app.catalog.models import Platform
from app.i18n import babel_locale

LINK_EXAMPLES: dict[Platform, str] = {
    Platform.INSTAGRAM: "https://www.instagram.com/yourname/ · @yourname",
    Platform.TIKTOK: "https://www.tiktok.com/@yourname · @yourname",
    Platform.YOUTUBE: "https://www.youtube.com/watch?v=… · @yourchannel",
    Platform.FACEBOOK: "https://www.facebook.com/yourpage",
    Platform.X: "https://x.com/yourname · @yourname",
    Platform.TELEGRAM: "https://t.me/yourchannel",
    Platform.SPOTIFY: "https://open.spotify.com/…",
}


@lru_cache(maxsize=4)
def countries(locale: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, name) of every country, Germany first, then by name in ``locale``."""
    names = Locale.parse(babel_locale(locale)).territories
    codes = [
        code
        for code in names
        if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO"}
    ]
    ordered = sorted((code for code in codes if code != "DE"), key=lambda code: names[code].casefold())
    return tuple((code, names[code]) for code in ["DE", *ordered])
