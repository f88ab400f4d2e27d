"""Order event notes are stored once and read in each staff member's language, amounts formatted for it."""

from __future__ import annotations

from decimal import Decimal

from app.i18n import N_, Message, translations
from app.orders.event_notes import Amount, render_note, stored_note
from app.orders.models import SOURCE_LABELS, OrderSource

german = translations("de").gettext


def _created_note() -> Message:
    return Message(
        N_("%(lines)s line(s), %(gross)s gross, via %(source)s"),
        {"lines": 1, "gross": Amount(Decimal("6.90"), "EUR"), "source": Message(SOURCE_LABELS[OrderSource.STOREFRONT])},
    )


def test_a_note_with_parameters_keeps_its_english_text_and_its_catalog_id():
    text, data = stored_note(_created_note(), {"lines": []})
    assert text == "1 line(s), 6.90 EUR gross, via storefront"
    assert data is not None
    assert data["lines"] == []
    assert data["note_text"]["id"] == "%(lines)s line(s), %(gross)s gross, via %(source)s"


def test_a_stored_note_reads_in_german_with_german_money():
    text, data = stored_note(_created_note(), None)
    assert render_note(text, data, german, "de") == "1 Position(en), 6,90\xa0€ brutto, über Shop"


def test_a_stored_note_reads_in_english_with_english_money():
    text, data = stored_note(_created_note(), None)
    assert render_note(text, data, translations("en").gettext, "en") == "1 line(s), €6.90 gross, via storefront"


def test_a_plain_note_is_its_own_catalog_id():
    text, data = stored_note(N_("first line at the provider"), None)
    assert data is None
    assert render_note(text, data, german, "de") == "erste Position beim Anbieter"
    assert render_note("typed by staff", None, german, "de") == "typed by staff"
    assert render_note(None, None, german, "de") is None


def test_a_nested_note_translates_each_part():
    reason = Message(N_("provider: %(message)s"), {"message": "Incorrect service ID"})
    text, data = stored_note(Message(N_("all lines finished: %(note)s"), {"note": reason}), None)
    assert text == "all lines finished: provider: Incorrect service ID"
    assert render_note(text, data, german, "de") == "alle Positionen abgeschlossen: Anbieter: Incorrect service ID"
