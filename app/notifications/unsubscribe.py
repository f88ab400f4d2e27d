"""The one-click unsubscribe link of the subscription renewal notice (RFC 8058), signed so it cannot be guessed.

The token is ``<customer id>.<HMAC-SHA256 of "renewal-notices:<customer id>" with the secret key>`` (base64url):
it names one customer and one kind of mail, never expires (a link in an old mail still works) and is the same
in every notice. The mail carries it in its ``List-Unsubscribe`` header (with ``List-Unsubscribe-Post``, so mail
clients may POST to it without asking) and as a link in the text; opening it shows a confirm button.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from app.config import get_settings

RENEWAL_NOTICES = "renewal-notices"
UNSUBSCRIBE_PATH = "/mail/unsubscribe"


def _mac(customer_id: int) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"{RENEWAL_NOTICES}:{customer_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def unsubscribe_token(customer_id: int) -> str:
    return f"{customer_id}.{_mac(customer_id)}"


def customer_of_token(token: str) -> int | None:
    """The customer the token was signed for; None when it is malformed or its signature is not ours."""
    number, _, mac = token.partition(".")
    if not number.isdigit() or len(number) > 18:
        return None
    customer_id = int(number)
    return customer_id if hmac.compare_digest(mac.encode(), _mac(customer_id).encode()) else None


def unsubscribe_url(customer_id: int) -> str:
    """The absolute link; no ``?lang=``: the page speaks the customer's language by itself."""
    return f"{get_settings().base_url.rstrip('/')}{UNSUBSCRIBE_PATH}/{unsubscribe_token(customer_id)}"
