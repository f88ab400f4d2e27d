"""The back office's reports page: finance reads a report, its chart and downloads it; bad input is a form error."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

import polars as pl
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.accounts.models import Role
from reports.catalog import REPORTS
from reports.revenue import Selection
from tests import factories
from tests.integration.admin.helpers import http_client, login_as
from tests.integration.reports.conftest import History
from tests.integration.reports.test_funnel_report import _history as funnel_history
from tests.integration.reports.test_revenue_reports import Q4
from tests.integration.reports.test_subscription_and_margin_reports import _subscription as subscription
from tests.integration.reports.test_subscription_and_margin_reports import berlin
from tests.unit.test_invoice_pdf import text_of

Q4_BY_MONTH = "/admin/reports?report=revenue&preset=custom&from=2026-10-01&to=2026-12-31&by=month"
CELLS = re.compile(r"<td[^>]*>([^<]*)</td>")


@pytest.fixture
async def finance(app: Litestar, history: History) -> Any:
    async with http_client(app) as client:
        await login_as(history.session, client, Role.FINANCE)
        yield client


async def test_finance_reads_monthly_revenue_with_its_chart(finance: AsyncTestClient[Any]) -> None:
    response = await finance.get(Q4_BY_MONTH)
    assert response.status_code == 200
    table = response.text.split('data-testid="report-table"')[1]
    november = table.split("<tr>")[3]  # header, October, November
    assert [unescape(cell).strip() for cell in CELLS.findall(november)][:6] == [
        "2026-11",
        "EUR",
        "2",
        "30.00",
        "5.70",
        "35.70",
    ]
    chart = response.text.split('data-testid="report-chart"')[1].split("</svg>")[0]
    assert chart.count("<rect") == 3  # three months, euros only
    assert "2026-12: -€6.00" in unescape(chart)


async def test_downloads_carry_the_same_figures(finance: AsyncTestClient[Any], history: History) -> None:
    query = Q4_BY_MONTH.split("?", 1)[1]
    parquet = await finance.get(f"/admin/reports?{query}&download=parquet")
    assert parquet.status_code == 200
    assert 'filename="revenue_2026-10-01_2026-12-31.parquet"' in parquet.headers["content-disposition"]
    expected = await REPORTS["revenue"].build(history.session, Selection(Q4), str)
    assert pl.read_parquet(io.BytesIO(parquet.content)).equals(expected)
    german = await finance.get(f"/admin/reports?{query}&download=csv-de")
    assert german.headers["content-type"].startswith("text/csv")
    assert "2026-11;EUR;2;30,00;5,70;35,70" in german.text
    xlsx = await finance.get(f"/admin/reports?{query}&download=xlsx")
    assert xlsx.content[:2] == b"PK"
    pdf = await finance.get(f"/admin/reports?{query}&download=pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="revenue_2026-10-01_2026-12-31.pdf"' in pdf.headers["content-disposition"]
    assert "34.00" in text_of(pdf.content)  # net after refunds in euros over the quarter


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("report=revenue&preset=custom&from=2026-12-31&to=2026-10-01", "to"),
        ("report=revenue&preset=custom&from=&to=2026-10-01", "from"),
        ("report=revenue&preset=custom&from=31.13.2026&to=2026-12-31", "from"),
        ("report=revenue&preset=custom&from=12/31/2026&to=2026-12-31", "from"),
        ("report=revenue&preset=custom&from=99999-01-01&to=2026-12-31", "from"),
        ("report=nonsense", "report"),
        ("report=revenue&preset=someday", "preset"),
        ("report=revenue&by=fortnight", "by"),
        ("report=revenue&preset=custom&from=2020-01-01&to=2026-12-31&by=day", "by"),
    ],
)
async def test_bad_input_is_a_field_error_not_a_crash(finance: AsyncTestClient[Any], query: str, field: str) -> None:
    page = await finance.get(f"/admin/reports?{query}")
    assert page.status_code == 400
    assert f'data-field-error="{field}"' in page.text
    assert (await finance.get(f"/admin/reports?{query}&download=csv")).status_code == 400


async def test_a_german_period_is_typed_as_german_dates_and_reads_like_iso(finance: AsyncTestClient[Any]) -> None:
    iso = await finance.get(f"{Q4_BY_MONTH}&lang=de")
    german = await finance.get(
        "/admin/reports?report=revenue&preset=custom&from=1.10.2026&to=31.12.2026&by=month&lang=de"
    )

    assert german.status_code == 200
    table = german.text.split('data-testid="report-table"')[1].split("</table>")[0]
    assert table == iso.text.split('data-testid="report-table"')[1].split("</table>")[0]
    for page in (iso.text, german.text):
        field = re.search(r'class="form-control" type="([a-z]+)"[^>]* id="from" name="from" value="([^"]*)"', page)
        assert field is not None and field.groups() == ("text", "01.10.2026")
        assert 'placeholder="TT.MM.JJJJ"' in page
    english = await finance.get(f"{Q4_BY_MONTH}&lang=en")
    assert re.search(r'type="date" id="from" name="from" value="2026-10-01"', english.text)


async def test_unknown_download_format_is_refused(finance: AsyncTestClient[Any]) -> None:
    response = await finance.get(f"{Q4_BY_MONTH}&download=docx")
    assert response.status_code == 400


async def test_staff_may_not_read_reports(app: Litestar, history: History) -> None:
    async with http_client(app) as client:
        await login_as(history.session, client, Role.STAFF)
        assert (await client.get(Q4_BY_MONTH)).status_code == 403
        assert (await client.get("/admin/reports?report=revenue&download=csv")).status_code == 403


async def test_a_split_by_month_stacks_each_bar_by_category_with_a_legend(finance: AsyncTestClient[Any]) -> None:
    """Growth: A in October, B in November; Engagement: C in November, its line's refund in December; the
    whole-order refund of A in December."""
    page = await finance.get(Q4_BY_MONTH.replace("report=revenue", "report=revenue-by-category"))
    chart = unescape(page.text.split('data-testid="report-chart"')[1].split("</svg>")[0])
    assert "Net after refunds (EUR) per period, by Category" in chart
    assert chart.count("<g>") == 3
    assert "2026-11: €30.00\nGrowth: €20.00\nEngagement: €10.00" in chart
    assert "2026-12: -€6.00\nEngagement: -€5.00\nwhole order: -€1.00" in chart
    legend = page.text.split('data-testid="chart-legend"')[1].split("</div>")[0]
    assert [name.strip() for name in re.findall(r"</svg>([^<]+)</span>", legend)] == [
        "Growth",
        "Engagement",
        "whole order",
    ]


async def test_the_funnel_is_charted_as_its_steps_with_the_share_of_the_step_before(
    finance: AsyncTestClient[Any], history: History
) -> None:
    """Two weeks of visitors (``test_funnel_report``): 3 + 1 landed, 2 + 1 looked at a service, 1 + 1 started a
    checkout, 1 paid."""
    await funnel_history(history.session)
    page = await finance.get("/admin/reports?report=funnel&preset=custom&from=2026-11-02&to=2026-11-15&lang=de")
    chart = unescape(page.text.split('data-testid="report-chart"')[1].split("</svg>")[0])
    assert 'data-chart="funnel"' in chart
    steps = re.findall(r">([^<>]+)</text>\s*<rect[^>]*/>\s*<text[^>]*><tspan[^>]*>(\d+)</tspan>([^<]*)</text>", chart)
    assert [(name, count, share.strip(" ·")) for name, count, share in steps] == [
        ("Besucher der Startseite", "4", ""),
        ("Besucher der Dienstseiten", "3", "75,0 %"),
        ("Begonnene Bezahlvorgänge", "2", "66,7 %"),
        ("Besucher mit Zahlung", "1", "50,0 %"),
    ]


async def test_subscriptions_chart_mrr_per_month(finance: AsyncTestClient[Any], history: History) -> None:
    """One subscription paid in October and November (10.00 a month)."""
    item = await factories.service(history.session, price="10.0000")
    await subscription(history.session, item, berlin(2026, 10, 15, 12), berlin(2026, 11, 15, 12))
    await history.session.commit()
    page = await finance.get("/admin/reports?report=subscriptions&preset=custom&from=2026-10-01&to=2026-11-30")
    chart = unescape(page.text.split('data-testid="report-chart"')[1].split("</svg>")[0])
    assert "Monthly recurring revenue (EUR) per month" in chart
    assert chart.count("<rect") == 2
    assert "2026-10: €10.00" in chart and "2026-11: €10.00" in chart
