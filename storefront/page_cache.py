"""Rendered catalog pages (``/``, ``/services``), kept per process and served until the catalog changes.

These pages are the same for every visitor of a language, so each is rendered once per (page, platform filter,
language) and catalog version. Correct across worker processes without any messaging between them: every
catalog edit changes the single-row ``catalog_version`` in its own transaction (triggers on category, service
and company settings), and each process reads that number at most once per ``max_age`` seconds. A page is
stored with the version read *before* its data, in the same read-only session: the data are at least as new as
the version, so a page is never kept under a version newer than what it shows. An edit is therefore visible
everywhere within ``max_age`` (plus one render). Keys are bounded (known pages, known platforms, two
languages): a query string of the visitor's choosing never adds an entry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from app.catalog.services import catalog_version
from app.db.read_only import read_only_session

FRESHNESS_SECONDS = 1.0

PageKey = tuple[str, str | None, str]  # (page, platform filter, language)


@dataclass(frozen=True, slots=True)
class CachedPage:
    version: int
    body: bytes


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


class PageCache:
    def __init__(self, watch: CatalogVersionWatch | None = None) -> None:
        self.watch = watch or CatalogVersionWatch()
        self._pages: dict[PageKey, CachedPage] = {}

    def get(self, key: PageKey, version: int) -> bytes | None:
        page = self._pages.get(key)
        return page.body if page is not None and page.version == version else None

    def put(self, key: PageKey, version: int, body: bytes) -> None:
        self._pages[key] = CachedPage(version, body)

    def clear(self) -> None:
        self._pages.clear()
