"""``smplat invoices export-datev`` and ``export-zip``: files for the tax advisor, one-line refusals on bad input."""

from __future__ import annotations

import csv
import io
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.uow import UnitOfWork
from tests import factories
from tests.integration.invoicing.helpers import pay
from tests.integration.system.test_cli import smplat


@pytest.fixture
async def october_invoice(session: AsyncSession) -> str:
    await factories.company_settings(session)
    placed = await factories.place_order(session)
    await pay(UnitOfWork(session, clock=lambda: datetime(2026, 10, 12, 10, 0, tzinfo=UTC)), placed.order)
    await session.commit()
    return placed.order.number


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in lines[0]
    return lines[0]


async def test_export_datev_writes_the_months_bookings(clean_db: str, october_invoice: str, tmp_path: Path):
    out = tmp_path / "EXTF_2026-10.csv"

    result = smplat("invoices", "export-datev", "--month", "2026-10", "--out", str(out), database_url=clean_db)

    assert result.returncode == 0, result.stderr
    header, _columns, *rows = csv.reader(io.StringIO(out.read_bytes().decode("cp1252"), newline=""), delimiter=";")
    assert header[:2] == ["EXTF", "700"]
    assert [row[10] for row in rows] == ["RE-2026-000001"]


async def test_export_zip_writes_the_periods_pdfs(clean_db: str, october_invoice: str, tmp_path: Path):
    out = tmp_path / "october.zip"

    result = smplat(
        "invoices", "export-zip", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out), database_url=clean_db
    )

    assert result.returncode == 0, result.stderr
    assert "1 documents" in result.stdout
    assert sorted(zipfile.ZipFile(out).namelist()) == ["RE-2026-000001.pdf", "index.csv"]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("export-datev", "--month", "2026-13"), "is not a month like 2026-10"),
        (("export-datev", "--month", "October"), "is not a month like 2026-10"),
        (("export-zip", "--from", "2026-10-31", "--to", "2026-10-01"), "ends (2026-10-01) before it starts"),
        (("export-zip", "--from", "31.10.2026", "--to", "2026-11-30"), "is not a date like 2026-01-31"),
        (("export-zip", "--from", "2024-01-01", "--to", "2026-10-31"), "longer than 366 days"),
    ],
)
def test_bad_input_is_refused_in_one_line(clean_db: str, tmp_path: Path, args: tuple[str, ...], reason: str):
    out = tmp_path / "never.out"

    result = smplat("invoices", *args, "--out", str(out), database_url=clean_db)

    assert reason in one_line_refusal(result)
    assert not out.exists()


def test_export_datev_without_company_settings_says_what_to_enter_first(clean_db: str, tmp_path: Path):
    out = tmp_path / "never.csv"

    result = smplat("invoices", "export-datev", "--month", "2026-10", "--out", str(out), database_url=clean_db)

    assert "Enter the company settings first." in one_line_refusal(result)
