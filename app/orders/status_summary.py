"""What staff answer a client who asks "where is my order?": the order's fulfilment at a glance and a short
status text to paste into a reply, in the client's language.

Pure functions over loaded lines and the tracking page's own per-line wording (``app/orders/tracking.py``), so
the client reads in the reply what their tracking page says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from app import i18n
from app.i18n import N_, Translate
from app.orders.models import OrderLine
from app.orders.states import LineStatus
from app.orders.tracking import LineProgress, delivered_of


@dataclass(frozen=True)
class FulfilmentSummary:
    by_state: list[tuple[LineStatus, int]]  # the states the lines are in, in the state table's order
    delivered: int  # units delivered so far, over all lines (as the providers reported)
    ordered: int  # units ordered, over all lines


def fulfilment_summary(lines: Sequence[OrderLine]) -> FulfilmentSummary:
    counts = Counter(line.fulfillment_status for line in lines)
    return FulfilmentSummary(
        by_state=[(status, counts[status]) for status in LineStatus if counts[status]],
        delivered=sum(delivered_of(line) or 0 for line in lines),
        ordered=sum(line.quantity for line in lines),
    )


def client_status_text(number: str, lines: Sequence[LineProgress], translate: Translate, locale: str) -> str:
    """One line for the order, one per order line: its state in plain words and, while it runs, its estimate.

    ``lines`` are worded for ``locale`` already (``tracking_view`` in the client's language); ``translate`` is
    that language's catalog.
    """
    parts = [translate(N_("Status of your order %(number)s:")) % {"number": number}]
    for line in lines:
        text = f"{line.position}. {line.service} × {i18n.format_number(line.quantity, locale)}: "
        text += line.label.render(translate)
        estimate = "; ".join(eta.render(translate) for eta in line.eta_texts)
        parts.append(f"{text} ({estimate})" if estimate else text)
    return "\n".join(parts)
