"""Fixtures for back-office tests.

``web`` is a fresh client per test (on the clean database of the ``app`` fixture). ``backoffice`` is one seeded
database, app and logged-in session per role, shared by the read-only tests of a module: a module that uses it
must not use ``clean_db`` (or ``session``/``app``/``client``), which would empty the tables under it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.mount import SmplatAdmin
from app.accounts import passwords
from app.accounts.models import Role, StaffUser
from app.asgi import create_app
from app.audit.services import record
from app.catalog.models import Service
from app.config import Settings
from app.customers.models import Customer
from app.db.engine import create_engine, session_factory
from app.demo.seed import seed_demo_data
from app.payments.models import CheckoutLink, StripeEvent, Subscription, SubscriptionStatus
from tests.conftest import TEST_SECRET, _truncate
from tests.integration.admin.helpers import create_staff, find_admin, http_client, login

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="module", autouse=True)
def cheap_password_hashing() -> Any:
    """argon2 at production cost makes every login and new user cost ~0.3 s; the login logic is the same."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", CHEAP_HASHER)
        patch.setattr(passwords, "_DUMMY_HASH", CHEAP_HASHER.hash("smplat-timing-equaliser"))
        yield


@pytest.fixture
async def web(app: Litestar) -> AsyncIterator[AsyncTestClient[Any]]:
    """Like the ``client`` fixture, but the scope is the one a real server would hand over (see AsServerSeesIt)."""
    async with http_client(app) as client:
        yield client


@dataclass
class BackOffice:
    app: Litestar
    admin: SmplatAdmin
    client: AsyncTestClient[Any]
    users: dict[Role, StaffUser]
    cookies: dict[Role, httpx.Cookies]
    sessions: async_sessionmaker[AsyncSession]

    def as_role(self, role: Role) -> AsyncTestClient[Any]:
        """The shared client, carrying ``role``'s session cookie (server errors come back as 500s, not raised)."""
        self.client.cookies = self.cookies[role]
        return self.client


async def add_records_the_demo_lacks(session: AsyncSession) -> None:
    """One row for each view the demo data leaves empty, so that their details pages are covered too."""
    customer = (await session.scalars(sa.select(Customer).order_by(Customer.id).limit(1))).one()
    service = (await session.scalars(sa.select(Service).order_by(Service.id).limit(1))).unique().one()
    session.add_all(
        [
            StripeEvent(id="evt_test_admin", type="checkout.session.completed", payload={"id": "evt_test_admin"}),
            CheckoutLink(
                token_hash="0" * 64,
                customer_id=customer.id,
                items=[{"service_id": service.id, "quantity": 1000, "link": "https://www.instagram.com/x/"}],
                expires_at=datetime.now(UTC) + timedelta(days=3),
            ),
            Subscription(
                customer_id=customer.id,
                service_id=service.id,
                status=SubscriptionStatus.ACTIVE,
                target_username="cafe.lindenblatt",
                price=Decimal("29.00"),
            ),
        ]
    )
    record(session, actor_id=None, actor_label="test", action="create", entity_type="category", entity_id=1)
    await session.flush()


@pytest.fixture(scope="module")
async def backoffice(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, cheap_password_hashing: None
) -> AsyncIterator[BackOffice]:
    """Demo data, one logged-in user per role and an app, for the read-only tests of one module."""
    _truncate(database_url)
    engine = create_engine(database_url, null_pool=True)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            await seed_demo_data(session)
            await add_records_the_demo_lacks(session)
            await session.commit()
            users = {role: await create_staff(session, role) for role in Role}
        settings = Settings(
            env="test", database_url=database_url, secret_key=TEST_SECRET, data_dir=tmp_path_factory.mktemp("data")
        )
        app = create_app(settings)
        async with http_client(app, raise_server_exceptions=False) as client:
            cookies = {}
            for role, user in users.items():
                client.cookies.clear()
                await login(client, user.email)
                cookies[role] = httpx.Cookies(client.cookies)
            yield BackOffice(app, find_admin(app), client, users, cookies, sessions)
    finally:
        await engine.dispose()
