"""Checks shared by the edge tests of the storefront, the system and the back office."""

from __future__ import annotations

from typing import Any

import pytest


def assert_security_headers(response: Any, *, hsts: bool = False) -> None:
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-request-id"]
    assert ("strict-transport-security" in headers) is hsts


def log_lines(caplog: pytest.LogCaptureFixture, event: str, **where: Any) -> list[dict[str, Any]]:
    """The structlog event dicts of ``event`` captured by ``caplog`` whose fields match ``where``."""
    lines = [record.msg for record in caplog.records if isinstance(record.msg, dict)]
    return [line for line in lines if line.get("event") == event and all(line.get(k) == v for k, v in where.items())]
