"""An order event's note, read by each staff member in their own language.

``order_event.note`` keeps the English text (logs, exports, events written before notes had parameters); a note
with parameters is also stored in ``order_event.data`` as its catalog id and parameters, so a timeline renders it
in the viewer's language with amounts formatted for that language. A plain note is a catalog id itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.i18n import Message, Translate, format_money, untranslated

NOTE_KEY = "note_text"


@dataclass(frozen=True, slots=True)
class Amount:
    """Money in a note: formatted where the note is read (``1,90 €`` in German, ``€1.90`` in English)."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


Note = str | Message


def stored_note(note: Note | None, data: dict[str, Any] | None) -> tuple[str | None, dict[str, Any] | None]:
    """The note's English text for ``order_event.note`` and the event's data with the note's id and parameters."""
    if not isinstance(note, Message):
        return note, data
    return str(note), {**(data or {}), NOTE_KEY: _encode(note)}


def _encode(note: Message) -> dict[str, Any]:
    return {"id": note.id, "params": {name: _encode_value(value) for name, value in note.params.items()}}


def _encode_value(value: Any) -> Any:
    if isinstance(value, Message):
        return {"message": _encode(value)}
    if isinstance(value, Amount):
        return {"amount": str(value.amount), "currency": value.currency}
    return value if isinstance(value, int | str) else str(value)


def render_note(
    note: str | None, data: Mapping[str, Any] | None, translate: Translate = untranslated, locale: str | None = None
) -> str | None:
    """The note in the language of ``translate`` (amounts in ``locale``); None when the event has none."""
    stored = (data or {}).get(NOTE_KEY)
    if isinstance(stored, Mapping):
        return _decode(stored, locale).render(translate)
    return translate(note) if note else None


def _decode(stored: Mapping[str, Any], locale: str | None) -> Message:
    params = {name: _decode_value(value, locale) for name, value in (stored.get("params") or {}).items()}
    return Message(str(stored.get("id", "")), params)


def _decode_value(value: Any, locale: str | None) -> Any:
    if isinstance(value, Mapping) and "message" in value:
        return _decode(value["message"], locale)
    if isinstance(value, Mapping) and "amount" in value:
        return format_money(Decimal(str(value["amount"])), str(value.get("currency") or "EUR"), locale)
    return value
