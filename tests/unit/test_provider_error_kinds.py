"""A provider's error text is sorted into a kind staff can act on; stored notes of any age are read the same way."""

from __future__ import annotations

import pytest

from app.actors import ActorKind
from app.fulfillment.provider_errors import LOW_BALANCE_NOTE, REFUSED_NOTE, provider_error
from app.orders.event_notes import NOTE_KEY
from app.providers.error_kinds import ProviderErrorKind, error_kind
from app.providers.smm_v2_answers import InsufficientFunds, ProviderRefused, classify_error

K = ProviderErrorKind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Not enough funds on balance", K.LOW_BALANCE),
        ("Low balance", K.LOW_BALANCE),
        ("You have active order with this link. Please wait until order being completed.", K.ACTIVE_ORDER),
        ("Incorrect link", K.LINK_REFUSED),
        ("Link is invalid: the post does not exist", K.LINK_REFUSED),
        ("This account is private", K.LINK_REFUSED),
        ("Quantity less than minimal 100", K.QUANTITY_OUT_OF_RANGE),
        ("Quantity more than maximal 10000", K.QUANTITY_OUT_OF_RANGE),
        ("Incorrect service ID", K.SERVICE_UNAVAILABLE),
        ("Service not found", K.SERVICE_UNAVAILABLE),
        ("Invalid API key", K.ACCESS_REFUSED),
        ("add: no answer in time (read timeout) (panel.example): timed out", K.TIMEOUT),
        ("Incorrect request", K.UNKNOWN),
        ("", K.UNKNOWN),
    ],
)
def test_provider_error_texts_are_sorted_into_kinds(text, kind):
    assert error_kind(text) is kind


def test_dispatch_holds_for_funds_exactly_on_the_low_balance_kind():
    assert classify_error("Your balance is too low") is InsufficientFunds
    assert classify_error("Incorrect link") is ProviderRefused


def refused(message: str) -> dict:
    return {NOTE_KEY: {"id": REFUSED_NOTE, "params": {"message": message}}}


def test_a_refusal_stored_by_dispatch_is_explained_with_the_providers_words():
    error = provider_error("provider: Incorrect link", refused("Incorrect link"), ActorKind.WORKER)

    assert error is not None and (error.kind, error.text) == (K.LINK_REFUSED, "Incorrect link")
    assert error.label == "The provider refuses the link"


def test_a_refusal_stored_before_notes_kept_their_parameters_is_explained_too():
    error = provider_error("provider: Incorrect service ID", None, ActorKind.WORKER)

    assert error is not None and (error.kind, error.text) == (K.SERVICE_UNAVAILABLE, "Incorrect service ID")


def test_a_low_balance_hold_is_low_balance_whatever_the_provider_wrote():
    error = provider_error(LOW_BALANCE_NOTE + "Payment required", None, "worker")

    assert error is not None and (error.kind, error.text) == (K.LOW_BALANCE, "Payment required")


def test_a_call_without_answer_is_explained_by_the_clients_own_words():
    note = "add: no answer in time (read timeout) (panel.example): ReadTimeout"

    error = provider_error(note, None, ActorKind.WORKER)

    assert error is not None and (error.kind, error.text) == (K.TIMEOUT, note)


@pytest.mark.parametrize(
    ("note", "data", "actor"),
    [
        ("provider: Incorrect link", refused("Incorrect link"), ActorKind.STAFF),  # staff wrote it
        ("client asked to wait", None, ActorKind.WORKER),  # not a provider's error
        ("provider timed out after the request", None, ActorKind.WORKER),  # a translated note of its own
        (None, None, ActorKind.WORKER),
    ],
)
def test_other_notes_are_not_provider_errors(note, data, actor):
    assert provider_error(note, data, actor) is None
