"""The sandbox provider on a loopback port, with a clock the test moves, and an API v2 client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from app.providers.smm_v2 import SmmV2Client, Timeouts
from app.sandbox.provider import ManualClock, SandboxProvider, Simulation

SANDBOX_KEY = "sandbox-test-key-0123456789abcdef"
# Short enough that "no answer in time" costs a test half a second; held-back answers come long after it.
TEST_TIMEOUTS = Timeouts(connect=2.0, read=0.5, write=2.0, pool=2.0)
SIMULATION = Simulation(start_after=10, delivery_seconds=100, partial_share=0.0, refill_seconds=30)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[SandboxProvider]:
    with SandboxProvider(api_key=SANDBOX_KEY, clock=clock, simulation=SIMULATION) as running:
        yield running


@pytest.fixture
async def client(sandbox: SandboxProvider) -> AsyncIterator[SmmV2Client]:
    async with SmmV2Client(sandbox.url, SANDBOX_KEY, timeouts=TEST_TIMEOUTS) as api:
        yield api
