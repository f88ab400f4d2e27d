"""The edge's rules on their own: which forwarded address is believed, which hosts match, what a page may override."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from app.config import ConfigError, Settings
from app.web.middleware import EdgeMiddleware, form_has_nul
from app.web.proxy import Proxies, host_allowed, parse_ip
from app.web.security import PRIVATE_PAGE_REFERRER, local_path

PROD_SECRET = "p" * 40
PROXIES = Proxies([ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("198.51.100.7", ["203.0.113.5"], "198.51.100.7"),  # untrusted peer: its header is ignored
        ("10.0.0.1", ["203.0.113.5"], "203.0.113.5"),
        ("10.0.0.1", ["1.1.1.1, 203.0.113.5"], "203.0.113.5"),  # a client cannot prepend a fake first hop
        ("10.0.0.1", ["203.0.113.5, 10.0.0.2"], "203.0.113.5"),  # two trusted proxies in a row
        ("10.0.0.1", ["203.0.113.5", "10.0.0.2"], "203.0.113.5"),  # the header repeated
        ("10.0.0.1", ["203.0.113.5:4711"], "203.0.113.5"),
        ("10.0.0.1", ["[2001:db9::1]:443"], "2001:db9::1"),
        ("10.0.0.1", ["garbage, 203.0.113.5"], "203.0.113.5"),
        ("10.0.0.1", ["203.0.113.5, garbage"], "10.0.0.1"),  # nothing behind a broken hop is believed
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", ["10.0.0.3"], "10.0.0.3"),  # only proxies: the farthest one
        ("::ffff:10.0.0.1", ["203.0.113.5"], "203.0.113.5"),
        ("testclient", ["203.0.113.5"], "testclient"),
    ],
)
def test_the_client_address_is_the_nearest_hop_no_trusted_proxy_vouches_for(peer, forwarded_for, client):
    assert PROXIES.client_address(peer, forwarded_for) == client


def test_addresses_are_read_as_proxies_write_them():
    assert str(parse_ip(" 192.0.2.1 ")) == "192.0.2.1"
    assert str(parse_ip('"[2001:db8::1]:80"')) == "2001:db8::1"
    assert parse_ip("unknown") is None


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("shop.example", ("shop.example",), True),
        ("Shop.Example:443", ("shop.example",), True),
        ("evil.example", ("shop.example",), False),
        ("shop.example.evil", ("shop.example",), False),
        ("admin.shop.example", (".shop.example",), True),
        ("shop.example", (".shop.example",), True),
        ("evilshop.example", (".shop.example",), False),
        (None, ("shop.example",), False),
        ("shop.example@evil.example", ("shop.example",), False),
        ("[::1]:8000", ("::1",), True),
        ("anything", ("*",), True),
    ],
)
def test_hosts_match_exactly_or_by_domain(host, patterns, allowed):
    assert host_allowed(host, patterns) is allowed


def test_allowed_hosts_default_to_the_base_url_in_production_and_to_any_elsewhere():
    prod = Settings.from_env(
        {
            "SMPLAT_ENV": "prod",
            "SMPLAT_SECRET_KEY": PROD_SECRET,
            "SMPLAT_DATABASE_URL": "postgresql://db/smplat",
            "SMPLAT_BASE_URL": "https://Shop.Example:8443/",
        }
    )
    assert prod.host_patterns == ("shop.example",)
    assert Settings.from_env({}).host_patterns == ("*",)
    listed = Settings.from_env({"SMPLAT_ALLOWED_HOSTS": "shop.example, .shop.example"})
    assert listed.host_patterns == ("shop.example", ".shop.example")


def test_trusted_proxies_are_read_as_addresses_and_networks():
    settings = Settings.from_env({"SMPLAT_TRUSTED_PROXIES": "10.0.0.1, 172.16.0.0/12,fd00::/8"})
    assert settings.trusted_proxies == ("10.0.0.1", "172.16.0.0/12", "fd00::/8")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        Settings.from_env({"SMPLAT_TRUSTED_PROXIES": "proxy.internal"})


def test_a_nul_counts_in_form_fields_but_not_in_uploaded_files():
    boundary = b"XyZ"
    content_type = b"multipart/form-data; boundary=" + boundary

    def part(name: bytes, value: bytes, filename: bytes | None = None) -> bytes:
        disposition = b'form-data; name="' + name + b'"' + (b'; filename="' + filename + b'"' if filename else b"")
        return b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + b"\r\n"

    closing = b"--" + boundary + b"--\r\n"
    assert form_has_nul(part(b"name", b"a\x00b") + closing, content_type)
    assert not form_has_nul(part(b"name", b"ab") + part(b"file", b"\x00\x01", b"x.bin") + closing, content_type)
    assert form_has_nul(b"name=a%00b", b"application/x-www-form-urlencoded")
    assert not form_has_nul(b"name=100%25", b"application/x-www-form-urlencoded")


async def run(app: Any, path: str = "/", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers or [(b"host", b"shop.example")],
        "client": ("192.0.2.1", 1234),
        "scheme": "http",
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    edge = EdgeMiddleware(app, Settings(env="test"), language_cookies=lambda path: ())
    await edge(scope, receive, send)
    return {key.decode(): value.decode() for key, value in sent[0]["headers"]}


async def test_a_page_may_choose_its_referrer_policy_and_keeps_the_other_headers():
    async def tracking_page(scope: Any, receive: Any, send: Any) -> None:
        policy = (b"referrer-policy", PRIVATE_PAGE_REFERRER.encode())
        await send({"type": "http.response.start", "status": 200, "headers": [policy]})
        await send({"type": "http.response.body", "body": b"ok"})

    headers = await run(tracking_page)
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


async def test_admin_pages_are_never_cached_but_admin_static_files_may_be():
    async def cached(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"cache-control", b"max-age=3600")]})
        await send({"type": "http.response.body", "body": b"ok"})

    assert (await run(cached, "/admin/order/list"))["cache-control"] == "no-store"
    assert (await run(cached, "/admin"))["cache-control"] == "no-store"
    assert (await run(cached, "/admin/statics/js/main.js"))["cache-control"] == "max-age=3600"
    assert (await run(cached, "/administrator"))["cache-control"] == "max-age=3600"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/services", "/services"),
        ("/services?platform=tiktok", "/services?platform=tiktok"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\t/evil.example", "/"),
        (None, "/"),
    ],
)
def test_redirect_targets_stay_on_the_site(target, expected):
    assert local_path(target) == expected
