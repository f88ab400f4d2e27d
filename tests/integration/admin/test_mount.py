"""The admin mount under Litestar's own test client (the ``client`` fixture every other test suite uses)."""

from __future__ import annotations

from tests.integration.admin.helpers import ADMIN


async def test_admin_urls_without_a_query_string_work_with_the_stock_client(client):
    response = await client.get("/admin/order/list", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == f"{ADMIN}/login"


async def test_admin_urls_with_a_query_string_work_with_the_stock_client(client):
    response = await client.get("/admin/order/list?status=paid", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == f"{ADMIN}/login"
