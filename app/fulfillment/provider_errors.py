"""A provider's error as staff read it: what kind of problem it is (translated) and the provider's own words.

Read from what dispatch stored on the line's event (its English note, the note's catalog id and parameters), so
events written before this explanation existed are explained too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.actors import ActorKind
from app.i18n import N_
from app.orders.event_notes import NOTE_KEY
from app.providers.error_kinds import ERROR_KIND_LABELS, ProviderErrorKind, error_kind

REFUSED_NOTE = N_("provider: %(message)s")
REFUSED_PREFIX = "provider: "  # the note's English text, all that events written before its parameters keep
LOW_BALANCE_NOTE = "provider low balance: "
# The API v2 client's description of a call without usable answer starts with its action ("add: no answer in …").
_CLIENT_ERROR = re.compile(r"^(add|status|services|balance|refill|refill_status|cancel): ")
_FROM_WORK = frozenset({ActorKind.WORKER, ActorKind.PROVIDER, ActorKind.SYSTEM})


@dataclass(frozen=True)
class ProviderError:
    kind: ProviderErrorKind
    text: str  # as the provider (or the client, for a call without answer) worded it

    @property
    def label(self) -> str:
        return ERROR_KIND_LABELS[self.kind]


def provider_error(
    note: str | None, data: Mapping[str, Any] | None, actor_kind: ActorKind | str | None
) -> ProviderError | None:
    """The provider's error an event records, or None when its note is not one (a staff member's reason)."""
    if not note or actor_kind not in _FROM_WORK:
        return None
    stored = (data or {}).get(NOTE_KEY)
    if note.startswith(LOW_BALANCE_NOTE):
        return ProviderError(ProviderErrorKind.LOW_BALANCE, note.removeprefix(LOW_BALANCE_NOTE))
    text: str | None = None
    if isinstance(stored, Mapping) and stored.get("id") == REFUSED_NOTE:
        text = str((stored.get("params") or {}).get("message") or "")
    elif stored is None and note.startswith(REFUSED_PREFIX):
        text = note.removeprefix(REFUSED_PREFIX)
    elif stored is None and _CLIENT_ERROR.match(note):
        text = note
    return ProviderError(error_kind(text), text) if text else None
