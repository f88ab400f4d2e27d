"""The month's Stripe balance transactions for the clearing account (Geldtransitkonto), as a CSV for the advisor.

One row per balance transaction, oldest first: the Berlin day it was made, its type, Stripe's id, our order and
invoice (a charge) or credit note (a refund) where the money was ours, gross, fee and net, the currency and the
payout that took it to the bank. Below them, per currency: the sums per type, and the clearing account's opening
balance, movement (the sum of all nets, payouts included) and closing balance, which equal Stripe's balance at the
start and the end of the month. For German Excel (as the archive's index): UTF-8 with a byte order mark, ``;`` and
decimal commas; or plain RFC 4180 CSV for programs.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.i18n import BERLIN, N_, Message, Translate
from app.payments.balance import BalanceTransaction
from reports.files import csv_bytes

COLUMNS = (
    Message(N_("Date")),
    Message(N_("Type")),
    Message(N_("Stripe ID")),
    Message(N_("Balance transaction")),
    Message(N_("Order")),
    Message(N_("Invoice or credit note")),
    Message(N_("Gross")),
    Message(N_("Fee")),
    Message(N_("Net")),
    Message(N_("Currency")),
    Message(N_("Payout")),
)
TYPE_LABELS = {
    "charge": Message(N_("Payment")),
    "refund": Message(N_("Refund")),
    "payout": Message(N_("Payout")),
    "stripe_fee": Message(N_("Stripe fee")),
    "adjustment": Message(N_("Adjustment")),
}
SUM = Message(N_("Sum"))
OPENING, MOVEMENT, CLOSING = Message(N_("Opening balance")), Message(N_("Movement")), Message(N_("Closing balance"))


@dataclass(frozen=True)
class OurDocument:
    """What the shop knows of a charge or refund: its order and the invoice or credit note issued for it."""

    order_number: str
    document_number: str | None


@dataclass(frozen=True)
class OurRecords:
    """Our payments by Stripe payment intent, our refunds by Stripe refund id."""

    payments: Mapping[str, OurDocument]
    refunds: Mapping[str, OurDocument]

    def of(self, txn: BalanceTransaction) -> OurDocument | None:
        if txn.type == "refund":
            refunded = self.refunds.get(txn.source_id or "")
            if refunded is not None:
                return refunded
            paid = self.payments.get(txn.payment_intent_id or "")
            return OurDocument(paid.order_number, None) if paid else None
        if txn.type == "charge":
            return self.payments.get(txn.payment_intent_id or "")
        return None


def clearing_csv(
    transactions: Sequence[BalanceTransaction],
    ours: OurRecords,
    opening: Mapping[str, Decimal],
    translate: Translate,
    *,
    german_excel: bool = True,
) -> bytes:
    """The CSV of ``transactions`` (one month, oldest first) with the sums; ``opening``: balance per currency."""
    rows: list[list[object]] = [_row(txn, ours.of(txn)) for txn in transactions]
    currencies = sorted(set(opening) | {txn.currency for txn in transactions})
    for currency in currencies:
        mine = [txn for txn in transactions if txn.currency == currency]
        rows.append([])
        for kind in dict.fromkeys(txn.type for txn in mine):
            of_kind = [txn for txn in mine if txn.type == kind]
            rows.append([SUM, _label(kind), None, None, None, None, *_sums(of_kind), currency, None])
        start = opening.get(currency, Decimal("0.00"))
        movement = sum((txn.net for txn in mine), Decimal("0.00"))
        for title, amount in ((OPENING, start), (MOVEMENT, movement), (CLOSING, start + movement)):
            rows.append([title, None, None, None, None, None, None, None, amount, currency, None])
    content = csv_bytes(COLUMNS, rows, translate, german_excel=german_excel)
    return codecs.BOM_UTF8 + content if german_excel else content


def _row(txn: BalanceTransaction, ours: OurDocument | None) -> list[object]:
    return [
        txn.created.astimezone(BERLIN).date(),
        _label(txn.type),
        txn.source_id,
        txn.id,
        ours.order_number if ours else None,
        ours.document_number if ours else None,
        txn.amount,
        txn.fee,
        txn.net,
        txn.currency,
        txn.payout_id,
    ]


def _label(kind: str) -> object:
    return TYPE_LABELS.get(kind, kind)


def _sums(transactions: Sequence[BalanceTransaction]) -> tuple[Decimal, Decimal, Decimal]:
    zero = Decimal("0.00")
    return (
        sum((txn.amount for txn in transactions), zero),
        sum((txn.fee for txn in transactions), zero),
        sum((txn.net for txn in transactions), zero),
    )
