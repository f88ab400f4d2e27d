"""The fake Stripe's balance: a transaction per charge and refund with the fake's fee rule, payouts that sweep what
is available, and list endpoints that filter and paginate as Stripe's do (read with the real SDK)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from app.payments.stripe_gateway import StripeGateway
from app.sandbox import FakeStripe
from app.sandbox.stripe_balance import fee_of

from .conftest import API_KEY

OCTOBER_1 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def api(fake: FakeStripe) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10) as client:
        yield client


def charge_at(fake: FakeStripe, moment: datetime, amount: int) -> dict:
    fake.set_clock(moment)
    intent = fake.create_payment(amount)
    return fake.charges[intent["latest_charge"]]


def test_fee_is_one_and_a_half_percent_plus_25_cents_rounded_half_up():
    assert fee_of(1000) == 40  # 15 + 25
    assert fee_of(1234) == 44  # 18.51 -> 19, + 25
    assert fee_of(1233) == 43  # 18.495 -> 18, + 25


def test_a_charge_and_its_refund_each_leave_a_balance_transaction(fake: FakeStripe, api: httpx.Client):
    charge = charge_at(fake, OCTOBER_1, 2000)
    refund = api.post("/v1/refunds", data={"charge": charge["id"], "amount": "500"}).json()

    made = api.get(f"/v1/balance_transactions/{charge['balance_transaction']}").json()
    returned = api.get(f"/v1/balance_transactions/{refund['balance_transaction']}").json()

    assert (made["type"], made["amount"], made["fee"], made["net"], made["source"]) == (
        "charge",
        2000,
        55,
        1945,
        charge["id"],
    )
    assert made["fee_details"] == [
        {
            "amount": 55,
            "application": None,
            "currency": "eur",
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    assert made["created"] == int(OCTOBER_1.timestamp())
    assert made["available_on"] == int((OCTOBER_1 + timedelta(days=2)).timestamp())
    assert (returned["type"], returned["amount"], returned["fee"], returned["net"]) == ("refund", -500, 0, -500)
    assert returned["reporting_category"] == "refund" and returned["source"] == refund["id"]


def test_a_payout_sweeps_only_what_is_available(fake: FakeStripe, api: httpx.Client):
    early = charge_at(fake, OCTOBER_1, 1000)
    late = charge_at(fake, OCTOBER_1 + timedelta(days=3), 3000)

    [payout] = fake.pay_out(OCTOBER_1 + timedelta(days=4))

    assert payout["amount"] == 1000 - fee_of(1000)
    assert api.get(f"/v1/payouts/{payout['id']}").json()["amount"] == payout["amount"]
    swept = api.get("/v1/balance_transactions", params={"payout": payout["id"]}).json()["data"]
    assert {txn["id"] for txn in swept} == {early["balance_transaction"], payout["balance_transaction"]}
    own = fake.balance_transactions[payout["balance_transaction"]]
    assert (own["type"], own["amount"], own["net"]) == ("payout", -payout["amount"], -payout["amount"])
    assert late["balance_transaction"] not in {txn["id"] for txn in swept}
    assert fake.pay_out(OCTOBER_1 + timedelta(days=4)) == []  # nothing left that is available


def test_list_filters_by_created_and_type_newest_first(fake: FakeStripe, api: httpx.Client):
    days = [charge_at(fake, OCTOBER_1 + timedelta(days=day), 1000 + day) for day in range(4)]
    fake.pay_out(OCTOBER_1 + timedelta(days=10))
    start, end = OCTOBER_1 + timedelta(days=1), OCTOBER_1 + timedelta(days=3)

    listed = api.get(
        "/v1/balance_transactions",
        params={"created[gte]": int(start.timestamp()), "created[lt]": int(end.timestamp()), "type": "charge"},
    ).json()

    assert [txn["source"] for txn in listed["data"]] == [days[2]["id"], days[1]["id"]]
    assert listed["has_more"] is False and listed["url"] == "/v1/balance_transactions"
    payouts = api.get("/v1/balance_transactions", params={"type": "payout"}).json()["data"]
    assert len(payouts) == 1


def test_list_pages_with_limit_and_starting_after(fake: FakeStripe, api: httpx.Client):
    for day in range(5):
        charge_at(fake, OCTOBER_1 + timedelta(days=day), 1000)

    first = api.get("/v1/balance_transactions", params={"limit": 2}).json()
    second = api.get("/v1/balance_transactions", params={"limit": 2, "starting_after": first["data"][-1]["id"]}).json()
    last = api.get("/v1/balance_transactions", params={"limit": 2, "starting_after": second["data"][-1]["id"]}).json()

    assert (first["has_more"], second["has_more"], last["has_more"]) == (True, True, False)
    created = [txn["created"] for page in (first, second, last) for txn in page["data"]]
    assert created == sorted(created, reverse=True) and len(set(created)) == 5


@pytest.mark.parametrize(
    ("params", "status", "param"),
    [
        ({"limit": 0}, 400, "limit"),
        ({"limit": 101}, 400, "limit"),
        ({"created[gte]": "yesterday"}, 400, "created[gte]"),
        ({"starting_after": "txn_missing"}, 404, "starting_after"),
        ({"payout": "po_missing"}, 404, "payout"),
    ],
)
def test_bad_list_parameters_are_refused_in_stripes_format(api: httpx.Client, params: dict, status: int, param: str):
    answer = api.get("/v1/balance_transactions", params=params)

    assert answer.status_code == status
    assert answer.json()["error"]["param"] == param


async def test_the_sdk_reads_every_page_of_a_period_with_each_payout(fake: FakeStripe, gateway: StripeGateway):
    for minute in range(105):  # more than one page of 100
        charge_at(fake, OCTOBER_1 + timedelta(minutes=minute), 1000 + minute)
    charge_at(fake, OCTOBER_1 - timedelta(days=1), 5000)  # September: before the period
    [payout] = fake.pay_out(OCTOBER_1 + timedelta(days=3))

    found = await gateway.balance_transactions(OCTOBER_1, OCTOBER_1 + timedelta(days=31))
    before = await gateway.balance_before(OCTOBER_1)

    charges = [txn for txn in found if txn.type == "charge"]
    assert len(charges) == 105 and len(found) == 106
    assert [txn.amount for txn in charges] == [Decimal(1000 + minute).scaleb(-2) for minute in range(105)]
    assert all(txn.payout_id == payout["id"] for txn in found)
    assert charges[0].payment_intent_id is not None and charges[0].source_id.startswith("ch_")
    assert found[-1].type == "payout" and found[-1].net == -Decimal(payout["amount"]).scaleb(-2)
    assert sum(txn.net for txn in found) == -Decimal(5000 - fee_of(5000)).scaleb(-2)
    assert before == {"EUR": Decimal("49.00")}  # 50.00 less 1.5 % and 0.25
