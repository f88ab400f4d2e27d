"""The fake's hosted pages: Checkout (pay or cancel) and the customer portal (cancel a subscription).

They stand in for Stripe's own pages, which Stripe localises itself, so their few texts live here in German
and English rather than in the shop's catalog. Plain HTML with inline CSS: no external assets, works offline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from app.i18n import format_money
from app.sandbox.stripe_wire import to_decimal

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "banner": "Demo-Zahlung — es fließt kein Geld",
        "explain": "Diese Seite ersetzt Stripe im Demo- und Testbetrieb. Es werden keine Kartendaten abgefragt "
        "und nichts abgebucht.",
        "title": "Bezahlen",
        "total": "Gesamt",
        "pay": "Bezahlen",
        "cancel": "Abbrechen",
        "month": "pro Monat",
        "year": "pro Jahr",
        "week": "pro Woche",
        "day": "pro Tag",
        "email": "E-Mail",
        "closed": "Dieser Bezahlvorgang ist nicht mehr offen (Status: {status}).",
        "paid": "Zahlung abgeschlossen.",
        "canceled": "Bezahlvorgang abgebrochen.",
        "portal": "Abonnements verwalten",
        "next": "Nächste Abrechnung",
        "cancel_subscription": "Abo kündigen",
        "none": "Keine laufenden Abonnements.",
        "back": "Zurück zum Shop",
        "missing": "Diese Seite gibt es nicht (mehr).",
    },
    "en": {
        "banner": "Demo payment — no money moves",
        "explain": "This page stands in for Stripe in the demo and in tests. No card details are asked for and "
        "nothing is charged.",
        "title": "Pay",
        "total": "Total",
        "pay": "Pay",
        "cancel": "Cancel",
        "month": "per month",
        "year": "per year",
        "week": "per week",
        "day": "per day",
        "email": "Email",
        "closed": "This checkout is no longer open (status: {status}).",
        "paid": "Payment complete.",
        "canceled": "Checkout canceled.",
        "portal": "Manage subscriptions",
        "next": "Next billing",
        "cancel_subscription": "Cancel subscription",
        "none": "No running subscriptions.",
        "back": "Back to the shop",
        "missing": "This page does not exist (any more).",
    },
}

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1f2328}
main{max-width:32rem;margin:0 auto;padding:1.5rem 1rem}
.banner{background:#fff4ce;border:1px solid #e5c454;border-radius:.5rem;padding:.75rem 1rem;margin-bottom:1rem}
.banner strong{display:block;font-size:1.1rem}
.banner p{margin:.25rem 0 0;font-size:.9rem;color:#5c4b00}
.card{background:#fff;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:1.25rem}
h1{font-size:1.25rem;margin:0 0 1rem}
table{width:100%;border-collapse:collapse}
td{padding:.5rem 0;border-bottom:1px solid #eaecef;vertical-align:top}
td.amount{text-align:right;white-space:nowrap;padding-left:1rem}
small{color:#656d76}
tr.total td{font-weight:600;border-bottom:0;font-size:1.1rem}
.actions{display:flex;gap:.75rem;margin-top:1.25rem;flex-wrap:wrap}
.actions form{flex:1 1 10rem}
button{width:100%;padding:.75rem 1rem;font-size:1rem;border-radius:.375rem;border:1px solid #d0d7de;
background:#fff;color:#1f2328;cursor:pointer}
button.pay{background:#635bff;border-color:#635bff;color:#fff;font-weight:600}
button:focus-visible{outline:3px solid #99c2ff;outline-offset:2px}
.meta{color:#656d76;font-size:.875rem;margin:.75rem 0 0}
a{color:#635bff}
"""


def texts(locale: str | None) -> dict[str, str]:
    return TEXTS["en" if (locale or "").startswith("en") else "de"]


def _money(amount: int, currency: str, locale: str) -> str:
    return escape(format_money(to_decimal(amount, currency), currency.upper(), locale))


def _document(locale: str, title: str, body: str) -> str:
    lang = "en" if locale.startswith("en") else "de"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title><style>{STYLE}</style></head>'
        f"<body><main>{body}</main></body></html>"
    )


def _banner(words: dict[str, str]) -> str:
    return (
        f'<div class="banner" role="note"><strong>{escape(words["banner"])}</strong>'
        f"<p>{escape(words['explain'])}</p></div>"
    )


def checkout_page(session: dict[str, Any], line_items: list[dict[str, Any]], locale: str) -> str:
    """The hosted Checkout page: demo banner, line items, total, Pay and Cancel."""
    words = texts(locale)
    currency = session["currency"]
    rows = []
    interval = ""
    for item in line_items:
        recurring = item["price"]["recurring"]
        per = f" {words[recurring['interval']]}" if recurring else ""
        interval = interval or per
        description = item.get("_product", {}).get("description")
        detail = f"<br><small>{escape(description)}</small>" if description else ""
        amount = _money(item["amount_total"], currency, locale)
        rows.append(
            f"<tr><td>{item['quantity']} × {escape(item['description'])}{detail}</td>"
            f'<td class="amount">{amount}{escape(per)}</td></tr>'
        )
    total = _money(session["amount_total"], currency, locale)
    rows.append(
        f'<tr class="total"><td>{escape(words["total"])}</td><td class="amount">{total}{escape(interval)}</td></tr>'
    )
    email = session.get("customer_email")
    meta = f'<p class="meta">{escape(words["email"])}: {escape(email)}</p>' if email else ""
    if session["status"] == "open":
        actions = (
            '<div class="actions">'
            f'<form method="post" action="/checkout/{escape(session["id"])}/cancel">'
            f'<button type="submit">{escape(words["cancel"])}</button></form>'
            f'<form method="post" action="/checkout/{escape(session["id"])}/pay">'
            f'<button type="submit" class="pay">{escape(words["pay"])} {total}</button></form>'
            "</div>"
        )
    else:
        actions = f'<p class="meta">{escape(words["closed"].format(status=session["status"]))}</p>'
    body = (
        f'{_banner(words)}<section class="card"><h1>{escape(words["title"])}</h1>'
        f"<table>{''.join(rows)}</table>{meta}{actions}</section>"
    )
    return _document(locale, f"{words['title']} – {words['banner']}", body)


def message_page(locale: str, key: str, *, link: str | None = None, **params: str) -> str:
    words = texts(locale)
    back = f'<p class="meta"><a href="{escape(link)}">{escape(words["back"])}</a></p>' if link else ""
    body = f'{_banner(words)}<section class="card"><p>{escape(words[key].format(**params))}</p>{back}</section>'
    return _document(locale, words["banner"], body)


def portal_page(portal: dict[str, Any], subscriptions: list[dict[str, Any]], locale: str) -> str:
    """The customer portal: running subscriptions with a Cancel button each, and the way back to the shop."""
    words = texts(locale)
    rows = []
    for subscription in subscriptions:
        items = subscription["items"]["data"]
        names = ", ".join(
            f"{item['quantity']} × {item.get('_description', item['price']['product'])}" for item in items
        )
        amount = sum(item["price"]["unit_amount"] * item["quantity"] for item in items)
        interval = items[0]["price"]["recurring"]["interval"] if items else "month"
        period_end = max((item["current_period_end"] for item in items), default=subscription["created"])
        next_date = datetime.fromtimestamp(period_end, tz=UTC).date().isoformat()
        action = (
            f'<form method="post" action="/billing_portal/{escape(portal["id"])}/cancel/{escape(subscription["id"])}">'
            f'<button type="submit">{escape(words["cancel_subscription"])}</button></form>'
        )
        rows.append(
            f"<tr><td>{escape(names)}<br><small>{escape(words['next'])}: {next_date} · {escape(subscription['status'])}"
            f'</small></td><td class="amount">{_money(amount, subscription["currency"], locale)} '
            f'{escape(words[interval])}</td></tr><tr><td colspan="2">{action}</td></tr>'
        )
    listing = f"<table>{''.join(rows)}</table>" if rows else f"<p>{escape(words['none'])}</p>"
    back = portal.get("return_url")
    link = f'<p class="meta"><a href="{escape(back)}">{escape(words["back"])}</a></p>' if back else ""
    body = f'{_banner(words)}<section class="card"><h1>{escape(words["portal"])}</h1>{listing}{link}</section>'
    return _document(locale, words["portal"], body)
