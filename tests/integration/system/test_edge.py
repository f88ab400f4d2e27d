"""What every response carries and what the edge refuses: security headers, hosts, proxies, NUL bytes, /schema.

The back office's side of the same (no-store, no inline scripts, form actions, throttle and audit addresses)
is in tests/integration/admin/test_edge_admin.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.company.services import CompanySettingsService
from app.config import Settings
from app.web.security import content_security_policy
from tests.integration.admin.helpers import AsServerSeesIt
from tests.integration.edge_checks import assert_security_headers, log_lines

PROD_SECRET = "prod-secret-key-" + "p" * 32
PUBLIC = "shop.example"


def prod_settings(database_url: str, data_dir: Path, **values: Any) -> Settings:
    return Settings(
        env="prod",
        database_url=database_url,
        secret_key=PROD_SECRET,
        base_url=f"https://{PUBLIC}",
        data_dir=data_dir,
        **values,
    ).validate()


@pytest.fixture
async def prod(clean_db: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app with production settings, public at https://shop.example (the test client asks for that host)."""
    app = create_app(prod_settings(clean_db, tmp_path))
    async with AsyncTestClient(app=AsServerSeesIt(app), base_url=f"http://{PUBLIC}") as client:
        yield client


@pytest.fixture
async def behind_proxy(clean_db: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient[Any]]:
    """Production settings behind a proxy at 127.0.0.1/8, whose clients use https://shop.example."""
    app = create_app(prod_settings(clean_db, tmp_path, trusted_proxies=("127.0.0.0/8",)))
    async with AsyncTestClient(app=AsServerSeesIt(app), base_url=f"http://{PUBLIC}") as client:
        client.headers["X-Test-Peer"] = "127.0.0.1"  # the proxy's address (AsServerSeesIt makes it the peer)
        yield client


# -- security headers ------------------------------------------------------------------------------------------


async def test_a_storefront_page_carries_the_security_headers(client):
    response = await client.get("/services")
    assert response.status_code == 200
    assert_security_headers(response)
    # Forms may lead to the payment page (POST /checkout redirects there): Stripe's checkout origin.
    assert response.headers["content-security-policy"] == content_security_policy(("https://checkout.stripe.com",))
    assert "no-store" not in response.headers.get("cache-control", "")


async def test_a_static_file_carries_the_security_headers(client):
    response = await client.get("/static/smplat.css")
    assert response.status_code == 200
    assert_security_headers(response)


async def test_an_unrouted_404_carries_the_security_headers_and_a_request_id(client):
    response = await client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert_security_headers(response)


async def test_an_error_page_carries_the_security_headers(client, monkeypatch):
    async def broken(self: Any) -> None:
        raise RuntimeError("the company settings are gone")

    monkeypatch.setattr(CompanySettingsService, "current", broken)
    response = await client.get("/services", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert "Something went wrong" in response.text or "Etwas ist schiefgelaufen" in response.text
    assert_security_headers(response)


async def test_a_refused_request_carries_the_security_headers(client):
    response = await client.get("/services?q=%00")
    assert response.status_code == 400
    assert_security_headers(response)


async def test_production_adds_hsts(prod):
    response = await prod.get("/health")
    assert response.status_code == 200
    assert_security_headers(response, hsts=True)
    assert response.headers["strict-transport-security"].startswith("max-age=")


# -- hosts -----------------------------------------------------------------------------------------------------


async def test_production_refuses_a_foreign_host_before_any_redirect(prod):
    response = await prod.get("/admin/order/list", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "evil.example" not in response.text
    assert_security_headers(response, hsts=True)


async def test_production_refuses_a_foreign_host_on_unrouted_paths_too(prod):
    response = await prod.get("/no-such-page", headers={"Host": "evil.example"})
    assert response.status_code == 400


async def test_production_answers_its_own_host_with_its_host_in_redirects(prod):
    response = await prod.get("/admin/order/list", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == f"http://{PUBLIC}/admin/login"


async def test_a_host_refusal_speaks_the_browsers_language(prod):
    response = await prod.get("/", headers={"Host": "evil.example", "Accept-Language": "de-DE,de;q=0.9"})
    assert response.status_code == 400
    assert "Hostnamen" in response.text


async def test_health_checks_by_address_are_answered_in_production(prod):
    response = await prod.get("/health", headers={"Host": "10.0.0.7:8000"})
    assert response.status_code == 200


async def test_dev_and_test_answer_any_host(client):
    response = await client.get("/health", headers={"Host": "anything.local:8000"})
    assert response.status_code == 200
    page = await client.get("/admin/order/list", headers={"Host": "anything.local:8000"}, follow_redirects=False)
    assert page.headers["location"] == "http://anything.local:8000/admin/login"


async def test_listed_hosts_replace_the_default(clean_db, tmp_path):
    app = create_app(prod_settings(clean_db, tmp_path, allowed_hosts=("www.shop.example", ".shop.example")))
    async with AsyncTestClient(app=app, base_url="http://www.shop.example") as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/", headers={"Host": "admin.shop.example"})).status_code == 200
        assert (await client.get("/", headers={"Host": "shop.example.evil"})).status_code == 400


# -- proxies ---------------------------------------------------------------------------------------------------


async def test_behind_a_trusted_proxy_redirects_use_the_https_the_browser_used(behind_proxy):
    response = await behind_proxy.get(
        "/admin/order/list", headers={"X-Forwarded-Proto": "https"}, follow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["location"] == f"https://{PUBLIC}/admin/login"


async def test_a_trusted_proxys_forwarded_host_is_checked_like_any_host(behind_proxy):
    proxied = {"Host": "127.0.0.1:8000", "X-Forwarded-Proto": "https"}
    ok = await behind_proxy.get(
        "/admin/order/list", headers={**proxied, "X-Forwarded-Host": PUBLIC}, follow_redirects=False
    )
    assert ok.headers["location"] == f"https://{PUBLIC}/admin/login"
    evil = await behind_proxy.get("/admin/order/list", headers={**proxied, "X-Forwarded-Host": "evil.example"})
    assert evil.status_code == 400


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(prod):
    response = await prod.get(
        "/admin/order/list",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Test-Peer": "127.0.0.1"},
        follow_redirects=False,
    )
    assert response.headers["location"] == f"http://{PUBLIC}/admin/login"


async def test_the_access_log_names_the_client_behind_a_trusted_proxy(behind_proxy, caplog):
    caplog.set_level("INFO")
    await behind_proxy.get("/health", headers={"X-Forwarded-For": "203.0.113.9, 127.0.0.2"})
    (line,) = log_lines(caplog, "request", path="/health")
    assert line["client"] == "203.0.113.9"


# -- NUL bytes, redirects --------------------------------------------------------------------------------------


async def test_a_nul_in_a_form_body_is_a_clear_400(client):
    response = await client.post("/services", data={"q": "a\x00b"})
    assert response.status_code == 400
    assert "NUL" in response.text


async def test_the_language_switch_never_redirects_off_site_by_backslash(client):
    for target in ("/\\evil.example/", "/\t/evil.example/", "/\\/evil.example/"):
        response = await client.get("/lang/de", params={"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/", target


# -- /schema and the access log --------------------------------------------------------------------------------


async def test_schema_is_not_served_in_production(prod):
    for path in ("/schema", "/schema/openapi.json", "/schema/swagger"):
        response = await prod.get(path)
        assert response.status_code == 404, path


async def test_schema_is_json_only_in_development_and_loads_nothing_from_elsewhere(client):
    response = await client.get("/schema")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/")
    assert response.json()["info"]["title"] == "SMPLaT"
    for ui in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        page = await client.get(ui)
        assert page.status_code == 404, ui
        assert "<script" not in page.text


async def test_an_unrouted_404_gets_an_access_log_line_with_its_request_id(client, caplog):
    caplog.set_level("INFO")
    response = await client.get("/no/such/page", headers={"X-Request-ID": "trace-404-abcdef"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "trace-404-abcdef"
    (line,) = log_lines(caplog, "request", path="/no/such/page")
    assert (line["status"], line["request_id"], line["method"]) == (404, "trace-404-abcdef", "GET")


async def test_the_access_log_writes_the_path_as_the_client_sent_it(client, caplog):
    caplog.set_level("INFO")
    await client.get("/admin/login?next=x")
    await client.get("/static/smplat.css")
    paths = [line["path"] for line in log_lines(caplog, "request")]
    assert paths == ["/admin/login", "/static/smplat.css"]
