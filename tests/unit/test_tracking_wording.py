"""What the tracking page says per line: the client's state, the plain words, the bar, the shortened link."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from app import i18n
from app.orders.states import LineStatus
from app.orders.tracking import (
    CLIENT_STATES,
    ClientState,
    delivered_of,
    line_wording,
    percent_of,
    shorten_link,
)

ZERO = Decimal("0.00")


def words(status: LineStatus, locale: str = "en", **facts: object) -> tuple[ClientState, str]:
    values: dict[str, object] = {"quantity": 2000, "delivered": None, "refunded": ZERO, "currency": "EUR"}
    values.update(facts)
    state, text = line_wording(status, locale=locale, **values)  # type: ignore[arg-type]
    rendered = text.render(i18n.translations(locale).gettext)
    return state, rendered.replace("\xa0", " ")


def test_every_line_state_has_a_client_state():
    assert set(CLIENT_STATES) == set(LineStatus)


@pytest.mark.parametrize(
    "status", [LineStatus.ON_HOLD, LineStatus.DISPATCH_UNKNOWN, LineStatus.NEEDS_REVIEW, LineStatus.FAILED]
)
def test_internal_troubles_read_as_one_calm_state(status: LineStatus):
    assert words(status) == (ClientState.ON_IT, "We are on it — delivery continues shortly")
    assert words(status, "de")[1] == "Wir kümmern uns darum — die Lieferung geht in Kürze weiter"


def test_in_progress_counts_delivered_of_ordered_in_the_clients_number_format():
    assert words(LineStatus.IN_PROGRESS, delivered=1250) == (
        ClientState.IN_PROGRESS,
        "In progress — 1,250 of 2,000 delivered",
    )
    assert words(LineStatus.IN_PROGRESS, "de", delivered=1250)[1] == "In Arbeit — 1.250 von 2.000 geliefert"


def test_started_until_something_is_delivered_and_in_progress_once_it_is():
    assert words(LineStatus.IN_PROGRESS, delivered=0)[0] == ClientState.STARTED
    assert words(LineStatus.DISPATCHED)[0] == ClientState.STARTED
    assert words(LineStatus.DISPATCHED, delivered=10)[0] == ClientState.IN_PROGRESS


def test_partial_and_canceled_name_the_refund_once_it_is_made():
    assert words(LineStatus.PARTIAL)[1] == "Partially delivered — the undelivered part is being refunded"
    assert words(LineStatus.PARTIAL, refunded=Decimal("1.49"))[1] == "Partially delivered — refund of €1.49"
    assert words(LineStatus.CANCELED)[1] == "Canceled"
    assert words(LineStatus.CANCELED, "de", refunded=Decimal("5.95"))[1] == "Storniert — 5,95 € erstattet"


def line(status: LineStatus, quantity: int, remains: int | None) -> SimpleNamespace:
    return SimpleNamespace(fulfillment_status=status, quantity=quantity, remains=remains)


def test_delivered_is_quantity_minus_remains_within_the_quantity():
    assert delivered_of(line(LineStatus.IN_PROGRESS, 2000, 750)) == 1250  # type: ignore[arg-type]
    assert delivered_of(line(LineStatus.IN_PROGRESS, 2000, None)) is None  # type: ignore[arg-type]
    assert delivered_of(line(LineStatus.IN_PROGRESS, 2000, 2500)) == 0  # type: ignore[arg-type]
    assert delivered_of(line(LineStatus.COMPLETED, 2000, None)) == 2000  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("delivered", "quantity", "percent"), [(None, 100, 0), (0, 100, 0), (1, 3, 33), (2, 3, 66), (5, 5, 100), (9, 0, 0)]
)
def test_the_bar_is_a_whole_percentage_rounded_down(delivered: int | None, quantity: int, percent: int):
    assert percent_of(delivered, quantity) == percent


def test_links_are_shown_without_scheme_and_cut_with_an_ellipsis():
    assert shorten_link("https://www.instagram.com/lena.schmidt/") == "instagram.com/lena.schmidt"
    long = shorten_link("https://www.youtube.com/watch?v=" + "x" * 80)
    assert len(long) == 48 and long.endswith("…") and long.startswith("youtube.com/watch?v=")
