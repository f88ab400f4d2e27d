from __future__ import annotations

from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings
from app.db import migrations
from tests.conftest import TEST_SECRET


async def test_health_answers_without_touching_the_database(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


def logged(caplog, event: str) -> list[dict]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == event]


async def test_ready_when_database_answers_and_schema_is_at_head(client):
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_not_ready_while_migrations_are_pending_says_why_in_the_log_only(empty_database_url, tmp_path, caplog):
    migrations.upgrade(empty_database_url, "0001")
    app = create_app(Settings(env="test", database_url=empty_database_url, secret_key=TEST_SECRET, data_dir=tmp_path))
    caplog.set_level("INFO")
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready"}
    assert "0001" not in response.text
    (line,) = logged(caplog, "not ready: migrations pending")
    assert (line["current"], line["head"]) == ("0001", migrations.head_revision())


async def test_not_ready_when_the_database_is_unreachable_says_why_in_the_log_only(tmp_path, caplog):
    app = create_app(
        Settings(
            env="test", database_url="postgresql://nobody@127.0.0.1:9/none", secret_key=TEST_SECRET, data_dir=tmp_path
        )
    )
    caplog.set_level("INFO")
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready"}
    (line,) = logged(caplog, "not ready: the database does not answer")
    assert line["error"]
    assert line["error"] not in response.text


async def test_request_id_from_the_client_is_kept(client):
    response = await client.get("/health", headers={"X-Request-ID": "trace-1234abcd"})
    assert response.headers["x-request-id"] == "trace-1234abcd"


async def test_unknown_json_route_gets_problem_details(client):
    response = await client.get("/no-such-thing", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


async def test_every_log_line_of_a_request_carries_its_request_id(client, caplog):
    caplog.set_level("INFO")
    await client.get("/services", headers={"X-Request-ID": "trace-feedbeef"})
    lines = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert request_lines
    assert all(line.get("request_id") == "trace-feedbeef" for line in request_lines)
    assert request_lines[-1]["path"] == "/services"
