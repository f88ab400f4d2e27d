"""The back office's exports for the tax advisor: finance downloads the DATEV file and the PDFs; staff may not."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.uow import UnitOfWork
from tests import factories
from tests.integration.admin.helpers import login_as
from tests.integration.invoicing.helpers import pay

DATEV = "/admin/tax-advisor?download=datev&month=2026-10"
PDFS = "/admin/tax-advisor?download=pdfs&from=2026-10-01&to=2026-10-31"


@pytest.fixture
async def october_invoice(session: AsyncSession) -> str:
    await factories.company_settings(session)
    placed = await factories.place_order(session)
    await pay(UnitOfWork(session, clock=lambda: datetime(2026, 10, 12, 10, 0, tzinfo=UTC)), placed.order)
    await session.commit()
    return placed.order.number


@pytest.mark.parametrize("url", ["/admin/tax-advisor", DATEV, PDFS])
async def test_staff_may_not_open_the_exports_or_download_them(
    web: AsyncTestClient[Any], session: AsyncSession, october_invoice: str, url: str
):
    await login_as(session, web, Role.STAFF)

    response = await web.get(url)

    assert response.status_code == 403
    assert "EXTF" not in response.text and response.headers["content-type"].startswith("text/html")


async def test_finance_downloads_the_months_datev_bookings(
    web: AsyncTestClient[Any], session: AsyncSession, october_invoice: str
):
    finance = await login_as(session, web, Role.FINANCE)

    response = await web.get(DATEV)

    assert response.status_code == 200
    assert 'filename="EXTF_Buchungsstapel_2026-10.csv"' in response.headers["content-disposition"]
    header, _columns, *rows = csv.reader(io.StringIO(response.content.decode("cp1252"), newline=""), delimiter=";")
    assert header[:4] == ["EXTF", "700", "21", "Buchungsstapel"]
    assert header[8] == finance.email
    assert [(row[0], row[1], row[10]) for row in rows] == [("2,98", "S", "RE-2026-000001")]


async def test_finance_downloads_the_periods_pdfs_as_a_zip(
    web: AsyncTestClient[Any], session: AsyncSession, october_invoice: str
):
    await login_as(session, web, Role.FINANCE)

    response = await web.get(PDFS)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["RE-2026-000001.pdf", "index.csv"]


async def test_periods_and_months_may_be_typed_the_german_way(
    web: AsyncTestClient[Any], session: AsyncSession, october_invoice: str
):
    await login_as(session, web, Role.FINANCE)

    form = await web.get("/admin/tax-advisor?lang=de")
    response = await web.get("/admin/tax-advisor?download=pdfs&from=01.10.2026&to=31.10.2026")
    datev = await web.get("/admin/tax-advisor?download=datev&month=10.2026")
    refused = await web.get("/admin/tax-advisor?download=pdfs&from=10/01/2026&to=31.10.2026&lang=de")

    assert 'type="text" inputmode="numeric" autocomplete="off" id="from" name="from"' in form.text
    assert re.search(r'type="text" [^>]*id="month" name="month" value="\d{2}\.\d{4}" placeholder="MM.JJJJ"', form.text)
    assert 'filename="EXTF_Buchungsstapel_2026-10.csv"' in datev.headers["content-disposition"]
    assert response.headers["content-type"] == "application/zip"
    assert sorted(zipfile.ZipFile(io.BytesIO(response.content)).namelist()) == ["RE-2026-000001.pdf", "index.csv"]
    assert refused.status_code == 400
    assert "Geben Sie ein Datum wie 31.01.2026 ein." in refused.text
    assert 'value="10/01/2026"' in refused.text  # shown as typed, to be corrected


async def test_finance_is_told_to_enter_the_advisor_numbers_first(web: AsyncTestClient[Any], session: AsyncSession):
    await factories.company_settings(session, datev_client_number=None)
    await session.commit()
    await login_as(session, web, Role.FINANCE)

    response = await web.get(DATEV)

    assert response.status_code == 400
    refusal = response.text.split('data-testid="refusal">')[1].split("</div>")[0]
    assert refusal == "Enter the DATEV consultant and client numbers in the company settings first."


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("download=datev&month=2026-13", "month"),
        ("download=datev&month=", "month"),
        ("download=datev&month=13.2026", "month"),
        ("download=pdfs&from=2026-10-31&to=2026-10-01", "to"),
        ("download=pdfs&from=31.13.2026&to=2026-10-31", "from"),
        ("download=pdfs&from=10/31/2026&to=2026-10-31", "from"),
        ("download=pdfs&from=2020-01-01&to=2026-10-31", "to"),
    ],
)
async def test_bad_input_is_a_field_error_not_a_crash(
    web: AsyncTestClient[Any], session: AsyncSession, query: str, field: str
):
    await login_as(session, web, Role.FINANCE)

    response = await web.get(f"/admin/tax-advisor?{query}")

    assert response.status_code == 400
    assert f'data-field-error="{field}"' in response.text
