"""Rendered catalog pages (``/``, ``/services``, ``/services/{slug}``), kept per process until the catalog changes.

These pages are the same for every visitor of a language, so each is rendered once per (page, platform filter,
language) and catalog version. A service page differs only by its order form's key (the idempotency key of
the order it places): it is stored with a slot in its place, filled with a fresh key on every answer.

Correct across worker processes without any messaging between them: every
catalog edit changes the single-row ``catalog_version`` in its own transaction (triggers on category, service
and company settings), and each process reads that number at most once per ``max_age`` seconds. A page is
stored with the version read *before* its data, in the same read-only session: the data are at least as new as
the version, so a page is never kept under a version newer than what it shows. An edit is therefore visible
everywhere within ``max_age`` (plus one render). Keys are bounded (known pages, known platforms, active
services, two languages): a query string or slug of the visitor's choosing never adds an entry.

The store itself (:class:`PageStore`) also keeps the tracking pages (``storefront/tracking_pages.py``), bounded,
each under its order's stamp.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from app.catalog.models import Platform
from app.catalog.services import catalog_version
from app.db.read_only import read_only_session
from storefront.order_form import new_form_key

FRESHNESS_SECONDS = 1.0
PLATFORMS = frozenset(platform.value for platform in Platform)

PageKey = tuple[str, str | None, str]  # (page, platform filter, language)


SERVICE_PAGES = "/services/"


def service_path(slug: str) -> str:
    return SERVICE_PAGES + slug


def platform_filter(value: str | None) -> str | None:
    """The catalog's platform filter as the cache keys it: a known platform or none."""
    return value if value in PLATFORMS else None


# Stands in a stored service page for its order form's key, replaced by a fresh key on every answer.
FORM_KEY_SLOT = "form-key-slot-of-a-cached-page"


@dataclass(slots=True)
class CachedPage:
    version: Any  # what the page shows is as of this version (a catalog version, a tracking page's stamp)
    body: bytes
    service_id: int | None = None  # a service page: its service (for the funnel), and a form key slot
    _gzipped: bytes | None = None

    def answer(self, *, gzipped: bool) -> bytes:
        """The body to send: a service page with a fresh form key; gzip if asked (stored once for fixed pages)."""
        if self.service_id is not None:
            body = self.body.replace(FORM_KEY_SLOT.encode(), new_form_key().encode(), 1)
            return gzip.compress(body, compresslevel=1) if gzipped else body
        if not gzipped:
            return self.body
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6)
        return self._gzipped


class CatalogVersionWatch:
    """The catalog version as this process last read it, read again when older than ``max_age`` seconds."""

    def __init__(self, max_age: float = FRESHNESS_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self.clock = clock
        self._version: int | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    def _fresh(self) -> int | None:
        if self._version is not None and self.clock() - self._read_at < self.max_age:
            return self._version
        return None

    async def current(self, engine: AsyncEngine) -> int:
        version = self._fresh()
        if version is not None:
            return version
        async with self._lock:  # one query per process, however many requests wait for it
            version = self._fresh()
            if version is None:
                async with read_only_session(engine) as session:
                    version = await catalog_version(session)
                self.saw(version)
            return version

    def saw(self, version: int) -> None:
        self._version = version
        self._read_at = self.clock()


K = TypeVar("K", bound=Hashable)


class PageStore(Generic[K]):
    """Rendered pages by key, each with the version of the data it shows; with ``max_pages``, the least
    recently used page goes when one more is stored."""

    def __init__(self, max_pages: int | None = None) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[K, CachedPage] = OrderedDict()

    def peek(self, key: K) -> CachedPage | None:
        """The page stored under ``key``, whatever its version."""
        return self._pages.get(key)

    def get(self, key: K, version: Any) -> CachedPage | None:
        page = self._pages.get(key)
        if page is None or page.version != version:
            return None
        if self.max_pages is not None:
            self._pages.move_to_end(key)
        return page

    def put(self, key: K, version: Any, body: bytes, service_id: int | None = None) -> CachedPage:
        page = self._pages[key] = CachedPage(version, body, service_id)
        if self.max_pages is not None:
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        return page

    def clear(self) -> None:
        self._pages.clear()


class PageCache(PageStore[PageKey]):
    """The catalog pages, one per known key (no bound needed), valid while the catalog version holds."""

    def __init__(self, watch: CatalogVersionWatch | None = None) -> None:
        super().__init__()
        self.watch = watch or CatalogVersionWatch()
