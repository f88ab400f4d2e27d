"""Every mail as its text part reads, per language, against a snapshot: copy changes are deliberate.

After changing a template or its translation on purpose: ``UPDATE_EMAIL_SNAPSHOTS=1 uv run pytest`` this file and
review the diff of ``snapshots/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.notifications.rendering import SUBJECTS, Sender, render_email

SNAPSHOTS = Path(__file__).parent / "snapshots"
SENDER = Sender(
    name="Demo Social GmbH",
    address="shop@demo.example",
    reply_to="support@demo.example",
    footer="Demo Social GmbH · Beispielstraße 1 · 10115 Berlin · support@demo.example",
)
SUBSCRIPTION: dict[str, Any] = {
    "name": "Anna Beispiel",
    "service": "Instagram Auto-Likes",
    "target": "@anna",
    "price": "29.75",
    "currency": "EUR",
    "period_end": "7. Jan. 2027, 12:00:00",
    "portal_url": "https://shop.example/portal?lang=de",
}
CONTEXTS: dict[str, dict[str, Any]] = {
    "order_confirmation": {
        "number": "SMP-2026-000042",
        "name": "Anna <Beispiel>",
        "lines": [
            {"service": "Instagram Likes", "quantity": 1500, "link": "https://www.instagram.com/p/abc/"},
            {"service": "Instagram Followers", "quantity": 250, "link": "https://www.instagram.com/anna/"},
        ],
        "net": "12.50",
        "tax": "2.38",
        "gross": "14.88",
        "currency": "EUR",
        "tracking_url": "https://shop.example/track/TOKEN?lang=de",
    },
    "checkout_link": {
        "name": "Studio Kern",
        "items": [{"service": "Instagram Likes", "quantity": 2000}],
        "pay_url": "https://shop.example/pay/TOKEN?lang=de",
        "expires": "7. Dez. 2026, 23:59:59",
    },
    "invoice_copy": {"name": "Anna Beispiel", "number": "RE-2026-000123", "credit_note": False, "invoice_id": 5},
    "line_refund": {
        "number": "SMP-2026-000042",
        "name": "Anna Beispiel",
        "service": "Instagram Likes",
        "quantity": 1500,
        "delivered": 900,
        "amount": "5.95",
        "currency": "EUR",
        "refund_id": 12,
        "attached": "GS-2026-000003",
    },
    "order_completed": {
        "number": "SMP-2026-000042",
        "name": "Anna Beispiel",
        "lines": [{"service": "Instagram Likes", "quantity": 1500, "link": "https://www.instagram.com/p/abc/"}],
        "net": "12.50",
        "tax": "2.38",
        "gross": "14.88",
        "currency": "EUR",
    },
    "staff_alert": {
        "summary": "SMP-2026-000042 line 1 (Instagram Likes): stuck",
        "message": "SMP-2026-000042 line 1 (Instagram Likes): stuck: no progress at the provider for 6 h or more",
        "topic": "line-stuck",
        "admin_url": "https://shop.example/admin/order-line/details/7",
    },
    "portal_link": {
        "name": "Anna Beispiel",
        "login_url": "https://shop.example/portal/login/TOKEN?lang=de",
        "minutes": 15,
    },
    "order_started": {
        "number": "SMP-2026-000042",
        "name": "Anna Beispiel",
        "lines": [{"service": "Instagram-Likes", "quantity": 1500, "link": "https://www.instagram.com/p/abc/"}],
        "net": "12.50",
        "tax": "2.38",
        "gross": "14.88",
        "currency": "EUR",
    },
    "refill_requested": {
        "number": "SMP-2026-000042",
        "name": "Anna Beispiel",
        "service": "Instagram-Follower",
        "quantity": 500,
        "link": "https://www.instagram.com/anna/",
    },
    "refill_done": {
        "number": "SMP-2026-000042",
        "name": "Anna Beispiel",
        "service": "Instagram-Follower",
        "quantity": 500,
        "link": "https://www.instagram.com/anna/",
    },
    "subscription_renewed": {
        **SUBSCRIPTION,
        "number": "SMP-2026-000077",
        "amount": "29.75",
        "unsubscribe_url": "https://shop.example/mail/unsubscribe/7.SIGNATURE",
    },
    "subscription_payment_failed": SUBSCRIPTION,
    "subscription_canceled": SUBSCRIPTION,
    "gdpr_export_ready": {
        "name": "Anna Beispiel",
        "download_url": "https://shop.example/portal/exports/7?lang=de",
        "expires": "8. Dez. 2026, 10:15:00",
    },
}


def test_every_template_has_a_snapshot_context():
    assert set(CONTEXTS) == set(SUBJECTS)


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_mail_text_matches_its_snapshot(template, locale):
    rendered = render_email(template, locale, CONTEXTS[template], SENDER)
    shown = f"Subject: {rendered.subject}\n\n{rendered.text}"
    snapshot = SNAPSHOTS / f"{template}.{locale}.txt"
    if os.environ.get("UPDATE_EMAIL_SNAPSHOTS") == "1":
        snapshot.write_text(shown, encoding="utf-8")
    assert shown == snapshot.read_text(encoding="utf-8")


def test_a_canceled_line_says_nothing_was_delivered():
    context = CONTEXTS["line_refund"] | {"delivered": 0}
    text = render_email("line_refund", "en", context, SENDER).text
    assert "could not be delivered and has been canceled" in text
    assert "We are refunding €5.95" in text
    assert "Our credit note GS-2026-000003 for this refund is attached." in text
    assert "credit note" not in render_email("line_refund", "en", context | {"attached": None}, SENDER).text


def test_client_data_is_escaped_in_the_html_part():
    rendered = render_email("order_confirmation", "en", CONTEXTS["order_confirmation"], SENDER)
    assert "Anna &lt;Beispiel&gt;" in rendered.html
    assert "Anna <Beispiel>" in rendered.text
