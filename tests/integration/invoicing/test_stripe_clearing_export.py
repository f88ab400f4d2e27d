"""The Stripe clearing account export of October 2026, from our paid orders and the fake Stripe's balance: a
September charge carried in, two October charges, a partial refund and the payout that sweeps them; a November charge
left out. The charges' gross equals our payments of the month, and the closing balance equals Stripe's balance.
Read through the CLI and the back office (finance only); without Stripe both say so instead of failing."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.asgi import create_app
from app.config import Settings
from app.i18n import translations
from app.invoicing.exports import stripe_clearing_file
from app.orders.models import Order
from app.payments import commands
from app.payments.gateway import to_minor_units
from app.payments.models import Payment, PaymentRecordStatus
from app.payments.refunds import record_refund_result
from app.payments.stripe_gateway import StripeGateway
from app.sandbox import FakeStripe
from app.uow import UnitOfWork
from reports.periods import calendar_month
from tests import factories
from tests.integration.admin.helpers import http_client, login_as
from tests.integration.invoicing.helpers import STRIPE, invoices_of, paid_checkout, requested_refund
from tests.integration.system.test_cli import smplat

API_KEY = "sk_test_clearing_" + "c" * 16
OCTOBER = calendar_month("2026-10")
DOWNLOAD = "/admin/tax-advisor?download=stripe&stripe_month=2026-10"


@dataclass(frozen=True)
class Month:
    orders: dict[str, Order]
    credit_note: str


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
async def gateway(fake: FakeStripe) -> Any:
    fake.reset()
    gateway = StripeGateway(api_key=API_KEY, webhook_secret=None, api_base=fake.base_url)
    yield gateway
    await gateway.aclose()


async def paid_through_stripe(session: AsyncSession, fake: FakeStripe, moment: datetime, quantity: int) -> Order:
    service = await factories.service(session, price="2.5000")
    placed = await factories.place_order(
        session, items=[(service, quantity, f"https://www.instagram.com/p/{quantity}/")]
    )
    order = placed.order
    fake.set_clock(moment)
    intent = fake.create_payment(to_minor_units(order.gross, order.currency), metadata={"order_id": str(order.id)})
    checkout = dataclasses.replace(paid_checkout(order), payment_intent_id=intent["id"])
    await commands.fulfill_checkout(UnitOfWork(session, clock=lambda: moment), session=checkout, actor=STRIPE)
    return order


async def refunded_through_stripe(
    session: AsyncSession, fake: FakeStripe, gateway: StripeGateway, order: Order, amount: str, moment: datetime
) -> None:
    refund = await requested_refund(session, order, amount)
    intent = await session.scalar(sa.select(Payment.stripe_payment_intent_id).where(Payment.id == refund.payment_id))
    assert intent is not None
    fake.set_clock(moment)
    result = await gateway.refund(
        payment_intent_id=intent,
        amount=Decimal(amount),
        currency="EUR",
        idempotency_key=refund.idempotency_key,
    )
    await record_refund_result(
        UnitOfWork(session, clock=lambda: moment), refund_id=refund.id, actor=STRIPE, result=result
    )


@pytest.fixture
async def october(session: AsyncSession, fake: FakeStripe, gateway: StripeGateway) -> Month:
    await factories.company_settings(session)
    orders = {
        "september": await paid_through_stripe(session, fake, datetime(2026, 9, 20, 10, tzinfo=UTC), 1000),
        "first": await paid_through_stripe(session, fake, datetime(2026, 10, 3, 10, tzinfo=UTC), 2000),
        "second": await paid_through_stripe(session, fake, datetime(2026, 10, 10, 10, tzinfo=UTC), 4000),
    }
    await refunded_through_stripe(session, fake, gateway, orders["second"], "3.00", datetime(2026, 10, 11, tzinfo=UTC))
    fake.pay_out(datetime(2026, 10, 20, tzinfo=UTC))
    orders["november"] = await paid_through_stripe(session, fake, datetime(2026, 11, 2, 10, tzinfo=UTC), 500)
    fake.set_clock(None)
    await session.commit()
    [credit_note] = [doc.number for doc in await invoices_of(session, orders["second"].id) if doc.refund_id]
    return Month(orders, credit_note)


def parsed(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=","))


async def test_the_months_rows_name_our_orders_and_balance_against_our_payments(
    session: AsyncSession, october: Month, gateway: StripeGateway, fake: FakeStripe
):
    content = await stripe_clearing_file(
        session,
        gateway,
        start=OCTOBER.start,
        end=OCTOBER.end,
        translate=translations("en").gettext,
        german_excel=False,
    )

    _header, *body = parsed(content)
    rows = body[: body.index([])]
    assert [(row[1], row[4]) for row in rows] == [
        ("Payment", october.orders["first"].number),
        ("Payment", october.orders["second"].number),
        ("Refund", october.orders["second"].number),
        ("Payout", ""),
    ]
    invoices = {
        order: [doc.number for doc in await invoices_of(session, order.id)] for order in october.orders.values()
    }
    assert rows[0][5] == invoices[october.orders["first"]][0]
    assert rows[2][5] == october.credit_note
    payout_id = rows[3][2]
    assert [row[10] for row in rows] == [payout_id] * 4

    paid = await session.scalar(
        sa.select(sa.func.sum(Payment.amount)).where(
            Payment.status == PaymentRecordStatus.SUCCEEDED,
            Payment.paid_at >= OCTOBER.start,
            Payment.paid_at < OCTOBER.end,
        )
    )
    charged = sum(Decimal(row[6]) for row in rows if row[1] == "Payment")
    assert charged == paid == october.orders["first"].gross + october.orders["second"].gross

    balances = {row[0]: Decimal(row[8]) for row in body if row and row[0] in ("Opening balance", "Closing balance")}
    cut = int(OCTOBER.end.timestamp())
    stripe_balance = sum(txn["net"] for txn in fake.balance_transactions.values() if txn["created"] < cut)
    september = fake.balance_transactions[fake.charges[next(iter(fake.charges))]["balance_transaction"]]
    assert balances["Opening balance"] == Decimal(september["net"]).scaleb(-2)
    assert balances["Closing balance"] == Decimal(stripe_balance).scaleb(-2)


@pytest.fixture
async def stripe_web(settings: Settings, fake: FakeStripe) -> Any:
    async with http_client(create_app(fake.configure(settings))) as client:
        yield client


async def test_finance_downloads_the_months_clearing_csv(
    stripe_web: AsyncTestClient[Any], session: AsyncSession, october: Month
):
    await login_as(session, stripe_web, Role.FINANCE)

    response = await stripe_web.get(DOWNLOAD)

    assert response.status_code == 200
    assert 'filename="stripe_clearing_2026-10.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert october.orders["first"].number in response.text
    assert october.orders["november"].number not in response.text


@pytest.mark.parametrize("url", ["/admin/tax-advisor", DOWNLOAD])
async def test_staff_may_not_download_the_clearing_csv(
    stripe_web: AsyncTestClient[Any], session: AsyncSession, october: Month, url: str
):
    await login_as(session, stripe_web, Role.STAFF)

    response = await stripe_web.get(url)

    assert response.status_code == 403
    assert october.orders["first"].number not in response.text


async def test_without_stripe_the_page_says_the_export_needs_it(app: Any, session: AsyncSession):
    async with http_client(app) as web:
        await login_as(session, web, Role.FINANCE)
        page = await web.get("/admin/tax-advisor")
        download = await web.get(DOWNLOAD)

    assert page.status_code == 200 and 'data-testid="stripe-missing"' in page.text
    assert download.status_code == 400
    refusal = download.text.split('data-testid="refusal">')[1].split("</div>")[0]
    assert refusal.startswith("This export reads the balance transactions from Stripe")


async def test_bad_month_is_a_field_error(stripe_web: AsyncTestClient[Any], session: AsyncSession):
    await login_as(session, stripe_web, Role.FINANCE)

    response = await stripe_web.get("/admin/tax-advisor?download=stripe&stripe_month=2026-13")

    assert response.status_code == 400
    assert 'data-field-error="stripe_month"' in response.text


async def test_cli_writes_the_months_clearing_csv(clean_db: str, october: Month, fake: FakeStripe, tmp_path: Path):
    out = tmp_path / "stripe.csv"

    result = smplat(
        "invoices",
        "export-stripe",
        "--month",
        "2026-10",
        "--out",
        str(out),
        database_url=clean_db,
        **fake.settings_env(),
    )

    assert result.returncode == 0, result.stderr
    assert october.orders["second"].number in out.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--month", "2026-10"], {}, "Stripe is not configured"),
        (["--month", "10/2026"], {}, "is not a month like 2026-10"),
    ],
)
def test_cli_refuses_without_stripe_or_with_a_bad_month(
    clean_db: str, tmp_path: Path, args: list[str], env: dict[str, str], message: str
):
    out = tmp_path / "stripe.csv"

    result = smplat("invoices", "export-stripe", *args, "--out", str(out), database_url=clean_db, **env)

    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
