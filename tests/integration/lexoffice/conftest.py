from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.engine import session_factory
from app.lexoffice.client import LexofficeClient
from app.sandbox.lexoffice import SandboxLexoffice
from tests.integration.lexoffice.helpers import QUICK_RETRIES, pointed_at


@pytest.fixture
def sandbox() -> Iterator[SandboxLexoffice]:
    with SandboxLexoffice(api_key=f"key-{secrets.token_hex(4)}") as running:
        yield running


@pytest.fixture
def configured(sandbox: SandboxLexoffice) -> Iterator[SandboxLexoffice]:
    """The process's settings name the sandbox's key and address (as the demo's do)."""
    with pointed_at(sandbox):
        yield sandbox


@pytest.fixture
async def lexoffice(sandbox: SandboxLexoffice) -> AsyncIterator[LexofficeClient]:
    async with LexofficeClient(sandbox.url, sandbox.api_key, retry_delays=QUICK_RETRIES) as client:
        yield client


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)
