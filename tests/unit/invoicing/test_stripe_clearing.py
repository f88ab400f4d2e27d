"""The clearing account's CSV from balance transactions: one row each with our order and document, then the sums per
type and the balances; German Excel friendly (BOM, ``;``, decimal commas), dates as Berlin days."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

from app.i18n import translations
from app.invoicing.stripe_clearing import OurDocument, OurRecords, clearing_csv
from app.payments.balance import BalanceTransaction


def txn(
    txn_id: str,
    kind: str,
    amount: str,
    fee: str,
    created: datetime,
    *,
    source: str,
    intent: str | None = None,
    payout: str | None = "po_1",
) -> BalanceTransaction:
    return BalanceTransaction(
        id=txn_id,
        type=kind,
        reporting_category=kind,
        amount=Decimal(amount),
        fee=Decimal(fee),
        net=Decimal(amount) - Decimal(fee),
        currency="EUR",
        created=created,
        available_on=created,
        source_id=source,
        payment_intent_id=intent,
        payout_id=payout,
    )


MONTH = [
    # 30 September 22:30 UTC is 1 October in Berlin.
    txn("txn_a", "charge", "20.00", "0.55", datetime(2026, 9, 30, 22, 30, tzinfo=UTC), source="ch_a", intent="pi_a"),
    txn("txn_b", "charge", "10.00", "0.40", datetime(2026, 10, 5, tzinfo=UTC), source="ch_b", intent="pi_b"),
    txn("txn_r", "refund", "-5.00", "0.00", datetime(2026, 10, 6, tzinfo=UTC), source="re_b", intent="pi_b"),
    txn(
        "txn_x", "charge", "7.00", "0.36", datetime(2026, 10, 7, tzinfo=UTC), source="ch_x", intent="pi_x", payout=None
    ),
    txn("txn_p", "payout", "-24.05", "0.00", datetime(2026, 10, 8, tzinfo=UTC), source="po_1"),
]
OURS = OurRecords(
    payments={"pi_a": OurDocument("SMP-2026-000001", "RE-2026-000001"), "pi_b": OurDocument("SMP-2026-000002", None)},
    refunds={"re_b": OurDocument("SMP-2026-000002", "GS-2026-000001")},
)


def rows(content: bytes, delimiter: str = ";") -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf") == (delimiter == ";")  # the byte order mark is for Excel
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def plain(content: bytes) -> list[list[str]]:
    return rows(content, ",")


def test_each_balance_transaction_is_a_row_with_our_order_and_document():
    header, *body = rows(clearing_csv(MONTH, OURS, {"EUR": Decimal("3.10")}, translations("de").gettext))

    assert header == [
        "Datum",
        "Typ",
        "Stripe-ID",
        "Saldobuchung",
        "Bestellung",
        "Rechnung oder Gutschrift",
        "Brutto",
        "Gebühr",
        "Netto",
        "Währung",
        "Auszahlung",
    ]
    assert body[:5] == [
        [
            "2026-10-01",
            "Zahlung",
            "ch_a",
            "txn_a",
            "SMP-2026-000001",
            "RE-2026-000001",
            "20,00",
            "0,55",
            "19,45",
            "EUR",
            "po_1",
        ],
        ["2026-10-05", "Zahlung", "ch_b", "txn_b", "SMP-2026-000002", "", "10,00", "0,40", "9,60", "EUR", "po_1"],
        [
            "2026-10-06",
            "Erstattung",
            "re_b",
            "txn_r",
            "SMP-2026-000002",
            "GS-2026-000001",
            "-5,00",
            "0,00",
            "-5,00",
            "EUR",
            "po_1",
        ],
        ["2026-10-07", "Zahlung", "ch_x", "txn_x", "", "", "7,00", "0,36", "6,64", "EUR", ""],
        ["2026-10-08", "Auszahlung", "po_1", "txn_p", "", "", "-24,05", "0,00", "-24,05", "EUR", "po_1"],
    ]


def test_sums_per_type_and_the_clearing_accounts_balances_close_the_file():
    content = clearing_csv(MONTH, OURS, {"EUR": Decimal("3.10")}, translations("en").gettext, german_excel=False)
    _header, *body = plain(content)

    assert body[5] == []
    sums = [(row[0], row[1], row[6], row[7], row[8]) for row in body[6:9]]
    assert sums == [
        ("Sum", "Payment", "37.00", "1.31", "35.69"),
        ("Sum", "Refund", "-5.00", "0.00", "-5.00"),
        ("Sum", "Payout", "-24.05", "0.00", "-24.05"),
    ]
    balances = [(row[0], row[8]) for row in body[9:]]
    assert balances == [("Opening balance", "3.10"), ("Movement", "6.64"), ("Closing balance", "9.74")]


def test_a_month_without_transactions_still_shows_the_balance_carried():
    _header, *body = rows(clearing_csv([], OURS, {"EUR": Decimal("12.00")}, translations("en").gettext))

    assert [(row[0], row[8]) for row in body if row] == [
        ("Opening balance", "12,00"),
        ("Movement", "0,00"),
        ("Closing balance", "12,00"),
    ]
