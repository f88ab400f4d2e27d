"""The renewal notice's unsubscribe token names one customer and cannot be made without the secret key."""

from __future__ import annotations

import pytest

from app.notifications.unsubscribe import customer_of_token, unsubscribe_token, unsubscribe_url


def test_a_token_names_the_customer_it_was_signed_for():
    assert customer_of_token(unsubscribe_token(42)) == 42
    assert unsubscribe_url(42).endswith(f"/mail/unsubscribe/{unsubscribe_token(42)}")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "42",
        "42.",
        "abc." + unsubscribe_token(42).partition(".")[2],
        "43." + unsubscribe_token(42).partition(".")[2],  # another customer's signature
        unsubscribe_token(42)[:-1] + ("A" if unsubscribe_token(42)[-1] != "A" else "B"),
        "9" * 40 + ".x",
    ],
)
def test_a_malformed_or_forged_token_names_nobody(token):
    assert customer_of_token(token) is None
