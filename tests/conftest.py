"""Test infrastructure: a real PostgreSQL, a fresh database per test run, clean tables per test.

The server is ``SMPLAT_TEST_DATABASE_URL`` if set, else ``postgresql://postgres@127.0.0.1:5432`` if it answers,
else an embedded PostgreSQL started in a temporary directory. Each run creates its own database(s) and drops
them at the end; the demo's data is never touched.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import Settings, use_settings
from app.db import migrations
from app.db.bootstrap import drop_database, ensure_database
from app.db.embedded import EmbeddedPostgres, start_embedded
from app.db.engine import create_engine, session_factory
from app.db.urls import conninfo, with_database
from app.models import metadata

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_SECRET = "test-secret-key-" + "x" * 32

# Tables whose rows tests create; emptied before each test that touches the database.
PROCRASTINATE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(conninfo(url), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session", autouse=True)
def test_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The whole test process runs with the test secret, like the apps and commands it starts."""
    settings = Settings(env="test", secret_key=TEST_SECRET, data_dir=tmp_path_factory.mktemp("data"))
    previous = use_settings(settings)
    yield settings
    use_settings(previous)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of the test server's maintenance database."""
    explicit = os.environ.get("SMPLAT_TEST_DATABASE_URL")
    if explicit:
        yield with_database(explicit, "postgres")
        return
    if _answers(LOCAL_SERVER):
        yield LOCAL_SERVER
        return
    embedded: EmbeddedPostgres = start_embedded(tmp_path_factory.mktemp("pg") / "data")
    try:
        yield embedded.url("postgres")
    finally:
        embedded.stop()


def new_database(pg_server: str, purpose: str) -> str:
    url = with_database(pg_server, f"smplat_test_{purpose}_{os.getpid()}_{secrets.token_hex(3)}")
    ensure_database(url)
    return url


@pytest.fixture(scope="session")
def database_url(pg_server: str) -> Iterator[str]:
    """A database migrated to head, for this test run only."""
    url = new_database(pg_server, "main")
    migrations.upgrade(url)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def empty_database_url(pg_server: str) -> Iterator[str]:
    """A database with nothing in it (for migration and readiness tests)."""
    url = new_database(pg_server, "empty")
    try:
        yield url
    finally:
        drop_database(url)


def _truncate(url: str) -> None:
    tables = [f'"{t.name}"' for t in metadata.sorted_tables] + list(PROCRASTINATE_TABLES)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


@pytest.fixture
def clean_db(database_url: str) -> str:
    _truncate(database_url)
    return database_url


@pytest.fixture
async def engine(clean_db: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(clean_db, null_pool=True)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on the clean test database; tests commit what other connections must see."""
    async with session_factory(engine)() as session:
        yield session


@pytest.fixture
def settings(clean_db: str, tmp_path: Path) -> Settings:
    return Settings(env="test", database_url=clean_db, secret_key=TEST_SECRET, data_dir=tmp_path / "data")


@pytest.fixture
def app(settings: Settings) -> Litestar:
    from app.asgi import create_app

    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client
