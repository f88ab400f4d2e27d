"""Finance takes the month's DATEV file and the PDFs for the tax advisor from the back office."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from app.accounts.models import Role
from app.uow import utc_now
from reports.periods import berlin_today
from tests.e2e.conftest import LiveServer, login

pytestmark = pytest.mark.e2e


async def test_finance_downloads_the_datev_file_and_the_pdfs_of_this_month(
    page: Any, live_server: LiveServer, shot: Any, tmp_path: Path
) -> None:
    today = berlin_today(utc_now())
    await login(page, live_server, Role.FINANCE)
    await page.get_by_role("link", name="Exports for the tax advisor").click()
    await expect(page.locator("[data-testid=datev-form]")).to_be_visible()
    await shot(page, "exports")

    await page.fill("#month", f"{today:%Y-%m}")
    async with page.expect_download() as datev:
        await page.get_by_role("button", name="Download DATEV file").click()
    datev_file = tmp_path / "datev.csv"
    await (await datev.value).save_as(datev_file)
    lines = datev_file.read_bytes().decode("cp1252").split("\r\n")
    assert lines[0].startswith('"EXTF";700;21;"Buchungsstapel"')
    assert any(';"RE-' in line for line in lines[2:])  # the demo's paid orders were invoiced this month

    await page.fill("#from", today.replace(day=1).isoformat())
    await page.fill("#to", today.isoformat())
    async with page.expect_download() as pdfs:
        await page.get_by_role("button", name="Download ZIP").click()
    archive = tmp_path / "pdfs.zip"
    await (await pdfs.value).save_as(archive)
    names = zipfile.ZipFile(archive).namelist()
    assert "index.csv" in names and any(name.startswith("RE-") for name in names)


async def test_finance_finds_the_datev_accounts_in_the_company_settings(
    page: Any, live_server: LiveServer, shot: Any
) -> None:
    await login(page, live_server, Role.FINANCE, path="/admin/company-settings/edit/1")

    await expect(page.get_by_label("DATEV consultant number (Beraternummer)")).to_have_value("1001")
    await expect(page.get_by_label("Revenue account: German VAT")).to_have_value("8400")
    await shot(page, "company-settings")
