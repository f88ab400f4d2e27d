"""The success metrics: figures on a hand-built month against the month before, the bookkeeping report they read,
and the reports page that opens on them (finance and admin only)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.actors import Actor
from app.analytics.models import FunnelEvent, FunnelKind
from app.customers.models import Customer
from app.invoicing.models import Invoice
from app.lexoffice.models import LexofficeSync, SyncStatus
from app.orders.lifecycle import record_event
from app.orders.models import EventKind, LineStatus, Order, OrderLine
from app.uow import UnitOfWork
from reports.catalog import REPORTS
from reports.periods import DateRange, Grouping
from reports.revenue import Selection
from tests import factories
from tests.integration.admin.helpers import create_staff, http_client, login, login_as
from tests.integration.lexoffice.helpers import paid_invoice
from tests.integration.reports.conftest import History

BERLIN = ZoneInfo("Europe/Berlin")
NOVEMBER = DateRange(date(2026, 11, 1), date(2026, 11, 30))


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


async def _bought(session: AsyncSession, buyer: Customer, at: datetime, completed_after: int | None = None) -> Order:
    item = await factories.service(session, price="10.0000")
    order = await factories.paid_order(session, buyer=buyer, items=[(item, 1000, "https://www.instagram.com/p/k/")])
    await session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=at))
    if completed_after is not None:
        await session.execute(
            sa.update(OrderLine)
            .where(OrderLine.id == order.lines[0].id)
            .values(fulfillment_status=LineStatus.COMPLETED, finished_at=at + timedelta(hours=completed_after))
        )
    return order


def _seen(kind: FunnelKind, visitor: str, at: datetime) -> FunnelEvent:
    return FunnelEvent(kind=kind, visitor_id=visitor, at=at)


async def test_success_metrics_for_a_month_against_the_month_before(session: AsyncSession) -> None:
    """November: landing visitors v1-v4, v1 paid → conversion 25.0 % (October: v5, v6, none paid → 0.0 %).
    X bought in October and November, Y first in November → repeat purchase 1 of 2 = 50.0 % (October 0.0 %).
    November's lines completed 4 h and 10 h after payment → median 7.0 h; staff acted on Y's line → automation
    1 of 2 = 50.0 %. No subscriptions, no invoices: no figure. Satisfaction is not measured."""
    x, y = await factories.customer(session), await factories.customer(session)
    await _bought(session, x, berlin(2026, 10, 5, 12))
    await _bought(session, x, berlin(2026, 11, 5, 12), completed_after=4)
    by_hand = await _bought(session, y, berlin(2026, 11, 6, 12), completed_after=10)
    staff = Actor.staff(1, "ops@example.com")
    record_event(UnitOfWork(session), by_hand, EventKind.NOTE, staff, line=by_hand.lines[0], note="sent by hand")
    november, october = berlin(2026, 11, 10, 12), berlin(2026, 10, 10, 12)
    session.add_all(
        [
            *(_seen(FunnelKind.LANDING_VIEW, visitor, november) for visitor in ("v1", "v2", "v3", "v4")),
            _seen(FunnelKind.PAID, "v1", november),
            *(_seen(FunnelKind.LANDING_VIEW, visitor, october) for visitor in ("v5", "v6")),
        ]
    )
    await session.commit()
    frame = await REPORTS["kpis"].build(session, Selection(NOVEMBER, None), str)
    rows = frame.iter_rows(named=True)
    figures = {row["metric"]: (row["value"], row["previous_value"], row["change"]) for row in rows}
    d = Decimal
    assert figures == {
        "Landing page → purchase": (d("25.0"), d("0.0"), d("25.0")),
        "Repeat purchase rate": (d("50.0"), d("0.0"), d("50.0")),
        "Subscription renewal rate": (None, None, None),
        "Processing time, median": (d("7.0"), None, None),
        "Automation coverage": (d("50.0"), d("100.0"), d("-50.0")),
        "Synced to Lexware Office within 24 h": (None, None, None),
        "Open sync failures": (None, None, None),
        "Net Promoter Score": (None, None, None),
        "Support tickets per 100 orders": (None, None, None),
        "First-response time": (None, None, None),
    }
    assert frame["success_metric"].unique(maintain_order=True).to_list() == [
        "Conversion",
        "Repeat purchase and renewal",
        "Order processing",
        "Bookkeeping",
        "Customer satisfaction",
    ]


async def _synced(session: AsyncSession, invoice: Invoice, issued: datetime, **sync: object) -> None:
    """Backdated: issued invoices are immutable (a trigger), so the history is written with triggers off."""
    await session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    await session.execute(sa.update(Invoice).where(Invoice.id == invoice.id).values(issued_at=issued))
    await session.execute(sa.delete(LexofficeSync).where(LexofficeSync.invoice_id == invoice.id))
    session.add(LexofficeSync(invoice_id=invoice.id, **sync))


async def test_bookkeeping_counts_documents_synced_within_a_day_of_issue(session: AsyncSession) -> None:
    """Issued in November (Berlin): one synced 23 h later, one synced after 25 h, one failed; one issued at
    00:30 Berlin on 1 December (still November in UTC) is December's. → 3 documents, 1 within 24 h (33.3 %),
    1 not synced, 1 failure."""
    first, late, failed, december = [await paid_invoice(session) for _ in range(4)]
    issued = berlin(2026, 11, 10, 9)
    for invoice, hours in ((first, 23), (late, 25)):
        synced = {"voucher_id": f"v-{invoice.id}", "file_uploaded": True, "synced_at": issued + timedelta(hours=hours)}
        await _synced(session, invoice, issued, status=SyncStatus.SYNCED, **synced)
    await _synced(session, failed, issued, status=SyncStatus.FAILED, last_error="HTTP 500")
    await _synced(session, december, berlin(2026, 12, 1, 0, 30), status=SyncStatus.PENDING)
    await session.commit()
    autumn = DateRange(date(2026, 11, 1), date(2026, 12, 31))
    frame = await REPORTS["bookkeeping"].build(session, Selection(autumn, Grouping.MONTH), str)
    assert frame.rows() == [("2026-11", 3, 1, Decimal("33.3"), 1, 1), ("2026-12", 1, 0, Decimal("0.0"), 1, 0)]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
async def test_reports_page_opens_on_the_success_metrics(app: Litestar, history: History, role: Role) -> None:
    async with http_client(app) as client:
        await login_as(history.session, client, role)
        page = await client.get("/admin/reports?preset=custom&from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200
    metrics = page.text.split('data-testid="kpis"')[1]
    for key in ("conversion", "repeat_purchase", "renewal", "processing_time", "synced_within_24h", "nps"):
        assert f'data-kpi="{key}"' in metrics
    nps = metrics.split('data-kpi="nps"')[1].split('data-kpi="tickets"')[0]
    assert "not measured yet" in nps
    # November in Berlin: B (00:30 on 1 November), C and D by three customers new that month; October: A alone.
    repeat = metrics.split('data-kpi="repeat_purchase"')[1].split('data-kpi="renewal"')[0]
    assert "0.0 %" in repeat
    assert 'data-testid="report-table"' not in page.text


async def test_success_metrics_speak_german_to_a_german_finance_user(app: Litestar, history: History) -> None:
    user = await create_staff(history.session, Role.FINANCE, locale="de")
    async with http_client(app) as client:
        await login(client, user.email)
        page = await client.get("/admin/reports?preset=custom&from=2026-11-01&to=2026-11-30")
    metrics = page.text.split('data-testid="kpis"')[1]
    assert "Erfolgskennzahlen" in page.text
    assert "Startseite → Kauf" in metrics
    assert "noch nicht gemessen" in metrics.split('data-kpi="nps"')[1]
    assert "0,0 %" in metrics.split('data-kpi="repeat_purchase"')[1].split('data-kpi="renewal"')[0]


async def test_cohort_heat_map_shows_shares_as_percent(app: Litestar, history: History) -> None:
    """History: A in October, B, C, D in November, each a customer of their own: every cohort keeps 100 % in
    month 0; October's month 1 is 0 %."""
    async with http_client(app) as client:
        await login_as(history.session, client, Role.FINANCE)
        page = await client.get("/admin/reports?report=cohort-retention&preset=custom&from=2026-10-01&to=2026-11-30")
    assert page.status_code == 200
    heat_map = page.text.split('data-testid="cohort-heat-map"')[1].split("</svg>")[0]
    assert heat_map.count("<rect") == 2 * 12
    assert heat_map.count(">100 %</text>") == 2
    assert ">0 %</text>" in heat_map
    assert "2026-10" in heat_map and "2026-11" in heat_map


async def test_staff_may_not_read_the_success_metrics(app: Litestar, history: History) -> None:
    async with http_client(app) as client:
        await login_as(history.session, client, Role.STAFF)
        assert (await client.get("/admin/reports")).status_code == 403
        assert (await client.get("/admin/reports?report=kpis&download=csv")).status_code == 403
