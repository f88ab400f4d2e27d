"""Public pages only read: a write by mistake fails loudly and persists nothing; a failure is a page, not JSON."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from advanced_alchemy.exceptions import IntegrityError as RepositoryIntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.catalog import services as offers
from app.catalog.models import Category, Service
from app.db.read_only import read_only_session
from app.db.urls import async_url
from tests import factories

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "en"}


async def is_active(session: AsyncSession, model: Any, pk: int) -> bool:
    return bool(await session.scalar(sa.select(model.is_active).where(model.id == pk)))


def error_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.msg for r in caplog.records if r.levelname == "ERROR" and isinstance(r.msg, dict)]


async def test_a_write_by_mistake_on_a_public_page_fails_loudly_and_persists_nothing(
    client, session, monkeypatch, caplog
):
    service = await factories.service(session)
    await session.commit()
    real_active_categories = offers.active_categories

    async def careless(db_session: AsyncSession) -> list[offers.CategoryOffers]:
        loaded = await db_session.get(Service, service.id)
        assert loaded is not None
        loaded.is_active = False
        return await real_active_categories(db_session)  # its query autoflushes the change

    monkeypatch.setattr(offers, "active_categories", careless)

    response = await client.get("/services", headers={**BROWSER, "X-Request-ID": "trace-readonly1"})

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in response.text
    assert "read-only" not in response.text  # no internals shown to visitors
    assert await is_active(session, Service, service.id)
    (line,) = error_lines(caplog)
    assert line["request_id"] == "trace-readonly1"
    assert line["path"] == "/services"


async def test_a_change_left_unflushed_on_a_public_page_is_never_committed(client, session, monkeypatch):
    service = await factories.service(session)
    await session.commit()
    real_active_categories = offers.active_categories

    async def careless(db_session: AsyncSession) -> list[offers.CategoryOffers]:
        found = await real_active_categories(db_session)
        category = await db_session.get(Category, service.category_id)
        assert category is not None
        db_session.autoflush = False  # the page's later queries do not flush it: only a commit would
        category.is_active = False
        return found

    monkeypatch.setattr(offers, "active_categories", careless)

    response = await client.get("/", headers=BROWSER)

    assert response.status_code == 200
    assert service.name_en in response.text
    assert await is_active(session, Category, service.category_id)


async def test_a_failed_query_on_a_public_page_is_an_error_page_not_a_409_json(client, session, monkeypatch, caplog):
    async def failing(db_session: AsyncSession) -> list[offers.CategoryOffers]:
        raise RepositoryIntegrityError(detail="There was a data validation error during processing")

    monkeypatch.setattr(offers, "active_categories", failing)

    response = await client.get("/", headers={**BROWSER, "X-Request-ID": "trace-readonly2"})

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "data validation" not in response.text
    (line,) = error_lines(caplog)
    assert line["request_id"] == "trace-readonly2"


async def test_a_read_only_session_refuses_writes_and_leaves_its_pooled_connection_writable(clean_db, session):
    service = await factories.service(session)
    await session.commit()
    engine = create_async_engine(async_url(clean_db), pool_size=1, max_overflow=0)  # one connection, reused
    try:
        async with read_only_session(engine) as readonly:
            assert await readonly.scalar(sa.text("SHOW transaction_read_only")) == "on"
            loaded = await readonly.get(Service, service.id)
            assert loaded is not None
            loaded.is_active = False
            with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
                await readonly.flush()

        assert await is_active(session, Service, service.id)
        async with engine.connect() as connection:
            assert await connection.scalar(sa.text("SHOW transaction_read_only")) == "off"
    finally:
        await engine.dispose()
