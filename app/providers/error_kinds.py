"""What a provider's error text is about, in words staff can act on.

Panels answer in their own English (``{"error": "Not enough funds on balance"}``); one classifier reads those
texts and the API v2 client's own descriptions of failed calls (timeouts), so dispatch decides on it and the back
office explains stored texts of any age with it.
"""

from __future__ import annotations

import re
from enum import StrEnum

from app.i18n import N_


class ProviderErrorKind(StrEnum):
    LOW_BALANCE = "low_balance"
    ACTIVE_ORDER = "active_order"
    LINK_REFUSED = "link_refused"
    QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"
    SERVICE_UNAVAILABLE = "service_unavailable"
    ACCESS_REFUSED = "access_refused"
    TIMEOUT = "timeout"
    UNKNOWN = "unknown"


# First match wins: "active order with this link" is about a running order, not about the link.
_PATTERNS = (
    (
        ProviderErrorKind.LOW_BALANCE,
        r"not\s+enough\s+(funds|balance|money)|low\s+balance|insufficient\s+(funds|balance)|balance\s+is\s+too\s+low",
    ),
    (ProviderErrorKind.ACTIVE_ORDER, r"active\s+order|order\s+(is\s+)?(already\s+)?(running|in\s+progress)"),
    (
        ProviderErrorKind.QUANTITY_OUT_OF_RANGE,
        r"quantity|\bminimal\b|\bmaximal\b|\b(min|max)(imum)?\s+(amount|order)",
    ),
    (ProviderErrorKind.LINK_REFUSED, r"\blink\b|\burl\b|username|private|profile|post\s+not\s+found"),
    (ProviderErrorKind.SERVICE_UNAVAILABLE, r"service"),
    (ProviderErrorKind.ACCESS_REFUSED, r"api\s*key|\bkey\b.*\b(invalid|incorrect)|unauthori[sz]ed|banned|blocked"),
    (ProviderErrorKind.TIMEOUT, r"time\s*out|timed\s+out|no\s+answer\s+in\s+time"),
)
_COMPILED = tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _PATTERNS)

ERROR_KIND_LABELS = {
    ProviderErrorKind.LOW_BALANCE: N_("Our balance at the provider is too low"),
    ProviderErrorKind.ACTIVE_ORDER: N_("The provider is still working on an order for this link"),
    ProviderErrorKind.LINK_REFUSED: N_("The provider refuses the link"),
    ProviderErrorKind.QUANTITY_OUT_OF_RANGE: N_("The quantity is outside the provider's limits"),
    ProviderErrorKind.SERVICE_UNAVAILABLE: N_("The service is not available at the provider"),
    ProviderErrorKind.ACCESS_REFUSED: N_("The provider refuses our API key"),
    ProviderErrorKind.TIMEOUT: N_("The provider did not answer in time"),
    ProviderErrorKind.UNKNOWN: N_("The provider reported an error"),
}


def error_kind(text: str) -> ProviderErrorKind:
    """The kind of a provider's error text (or of the client's description of a failed call)."""
    return next((kind for kind, pattern in _COMPILED if pattern.search(text)), ProviderErrorKind.UNKNOWN)
