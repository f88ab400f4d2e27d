"""Rendering a mail: subject, HTML from a Jinja template in the recipient's language, and the text part from it.

Each message is one HTML template in ``templates/`` (extending ``_layout.html``); its words go through the
gettext catalog, so German and English come from the same file. The plain-text part is the HTML rendered to
text (links written out), so both parts always say the same; the tests keep a snapshot of that text per message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app import i18n
from app.i18n import N_

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

# Every message the outbox can hold: its subject line (a catalog id with %(name)s filled from the context).
SUBJECTS: dict[str, str] = {
    "order_confirmation": N_("Order %(number)s: payment received, thank you"),
    "order_completed": N_("Order %(number)s is complete"),
    "checkout_link": N_("Your payment link for your order"),
    "line_refund": N_("Order %(number)s: refund of %(service)s"),
    "staff_alert": N_("[Alert] %(summary)s"),
    "portal_link": N_("Your login link for your customer account"),
    "invoice_copy": N_("%(number)s: your copy"),
    "order_started": N_("Order %(number)s: work has started"),
    "refill_requested": N_("Order %(number)s: refill of %(service)s requested"),
    "refill_done": N_("Order %(number)s: refill of %(service)s done"),
    "subscription_renewed": N_("Your subscription %(service)s has been renewed"),
    "subscription_payment_failed": N_("Payment for your subscription %(service)s failed"),
    "subscription_canceled": N_("Your subscription %(service)s has ended"),
    "gdpr_export_ready": N_("Your data export is ready"),
}


@dataclass(frozen=True)
class Sender:
    """Who a mail is from (the company): name and address, the support address replies go to, the footer."""

    name: str
    address: str
    reply_to: str
    footer: str = ""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _money(amount: str | Decimal | None, currency: str, locale: str) -> str:
    return i18n.format_money(None if amount is None else Decimal(str(amount)), currency, locale)


@lru_cache(maxsize=len(i18n.LOCALES))
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = i18n.translations(locale)
    env.install_gettext_callables(translations.gettext, translations.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        money=lambda amount, currency: _money(amount, currency, locale),
        count=lambda value: i18n.format_number(value, locale),
    )
    return env


def subject_line(template: str, locale: str, context: Mapping[str, Any]) -> str:
    text = i18n.translations(locale).gettext(SUBJECTS[template])
    try:
        return text % context
    except (KeyError, ValueError, TypeError):  # a translation with a broken placeholder: the English line
        return SUBJECTS[template] % context


def render_email(template: str, locale: str, context: Mapping[str, Any], sender: Sender) -> RenderedEmail:
    """The mail for an outbox row: raises KeyError for an unknown template, jinja2 errors for missing data."""
    subject = subject_line(template, locale, context)
    html = (
        _environment(locale)
        .get_template(f"{template}.html")
        .render(**context, subject=subject, sender=sender, locale=locale)
    )
    return RenderedEmail(subject=subject, text=html_to_text(html), html=html)


# -- HTML to text ------------------------------------------------------------------------------------------------

BLOCKS = {"p", "div", "table", "tr", "h1", "h2", "h3", "ul", "ol", "footer", "header"}
SKIPPED = {"head", "style", "title", "script"}


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str | None] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "td":
            self.parts.append(" ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping -= 1
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and not href.startswith("mailto:"):
                self.parts.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The text a reader sees in the HTML: blocks as paragraphs, list items as dashes, links as <url>."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    lines = [line.strip() for line in "".join(writer.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
