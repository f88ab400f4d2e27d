"""German and English: the request's locale, gettext catalogs (babel), money and date formatting.

Catalogs are ``app/locale/<lang>/LC_MESSAGES/messages.po``, compiled in memory at first use, so there is no
build step. Source strings are English; ``de`` translates them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberFormatError, format_currency, format_decimal, parse_decimal
from babel.support import Translations

LOCALES = ("de", "en")
DEFAULT_LOCALE = "de"
BERLIN = ZoneInfo("Europe/Berlin")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


def negotiate_locale(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    """Explicit choice (query, then cookie) wins; else the first supported Accept-Language; else German."""
    for candidate in (query_lang, cookie_lang):
        if candidate and candidate.lower()[:2] in LOCALES:
            return candidate.lower()[:2]
    if accept_language:
        weighted: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            lang, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            weighted.append((quality, lang.strip().lower()[:2]))
        for _quality, lang in sorted(weighted, key=lambda item: -item[0]):
            if lang in LOCALES:
                return lang
    return DEFAULT_LOCALE


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    po_file = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def N_(message: str) -> str:
    """Marks a string for the catalog without translating it here."""
    return message


def gettext(message: str) -> str:
    return translations(current_locale.get()).gettext(message)


Translate = Callable[[str], str]


def untranslated(message: str) -> str:
    return message


@dataclass(frozen=True, slots=True)
class Message:
    """A user-facing text decided in the domain and translated where it is shown.

    ``id`` is the English source (marked with ``N_`` so it lands in the catalog), with ``%(name)s``
    placeholders filled from ``params``; a param that is itself a Message is translated too (a state label).
    ``str()`` gives the English text (logs, CLI).
    """

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translate: Translate = untranslated) -> str:
        text = translate(self.id)
        if not self.params:
            return text
        values = {k: v.render(translate) if isinstance(v, Message) else v for k, v in self.params.items()}
        try:
            return text % values
        except (KeyError, ValueError, TypeError):  # a translation with a broken placeholder: fall back to English
            return self.id % values

    def __str__(self) -> str:
        return self.render()


def message(text: str | Message, **params: Any) -> Message:
    """``text`` as a Message (plain strings are catalog ids, translated if the catalog knows them)."""
    return text if isinstance(text, Message) else Message(text, params)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


# Babel locales behind our language codes: British English writes dates day-first, as our German clients expect.
BABEL_LOCALES = {"de": "de_DE", "en": "en_GB"}


def babel_locale(locale: str | None) -> str:
    code = locale or current_locale.get()
    return BABEL_LOCALES.get(code, code)


def format_money(amount: Decimal | None, currency: str = "EUR", locale: str | None = None) -> str:
    if amount is None:
        return "–"
    return format_currency(amount, currency, locale=babel_locale(locale))


def format_number(value: Decimal | int | None, locale: str | None = None) -> str:
    if value is None:
        return "–"
    return format_decimal(value, locale=babel_locale(locale))


def format_date(value: date | None, locale: str | None = None, fmt: str = "medium") -> str:
    """A calendar day for people (a report's period)."""
    if value is None:
        return "–"
    return babel_format_date(value, fmt, locale=babel_locale(locale))


def format_datetime(value: datetime | None, locale: str | None = None, fmt: str = "medium") -> str:
    """A timestamp in Berlin time for people (stored and compared in UTC)."""
    if value is None:
        return "–"
    return babel_format_datetime(value, fmt, tzinfo=BERLIN, locale=babel_locale(locale))


# -- numbers typed by people -----------------------------------------------------------------------------------


class NumberInputError(ValueError):
    """Text that is not a number as the language writes it; ``text`` says why (and what was probably meant)."""

    def __init__(self, text: Message) -> None:
        self.text = text
        super().__init__(str(text))


def parse_number(raw: str, locale: str | None = None) -> Decimal:
    """A decimal number as people write it in ``locale``: ``2,49`` and ``1.234,50`` in German, ``2.49`` and
    ``1,234.50`` in English. Strict: a separator in the wrong place is refused (never dropped), and so are
    exponents, infinities and NaN.
    """
    text = raw.strip()
    babel_code = babel_locale(locale)
    example = format_decimal(Decimal("1234.5"), format="#,##0.00", locale=babel_code)
    if not text or any(ch.isalpha() for ch in text):
        raise NumberInputError(Message(N_("must be a number such as %(example)s"), {"example": example}))
    try:
        value = parse_decimal(text, locale=babel_code, strict=True)
    except NumberFormatError as exc:
        suggestions = getattr(exc, "suggestions", None) or []
        if suggestions:
            raise NumberInputError(
                Message(
                    N_("is not a number as written here: did you mean %(suggestion)s?"), {"suggestion": suggestions[-1]}
                )
            ) from exc
        raise NumberInputError(Message(N_("must be a number such as %(example)s"), {"example": example})) from exc
    if not value.is_finite():
        raise NumberInputError(Message(N_("must be a number such as %(example)s"), {"example": example}))
    return value


def format_number_input(value: Decimal | int | None, places: int | None = None, locale: str | None = None) -> str:
    """A number as an input field shows it in ``locale`` (what ``parse_number`` reads back): at least two and at
    most ``places`` decimals, so 2.4900 shows as 2,49 and 0.000125 as 0,000125."""
    if value is None:
        return ""
    pattern = "#,##0" if places == 0 else "#,##0.00" + "#" * max(0, (places if places is not None else 6) - 2)
    return format_decimal(value, format=pattern, locale=babel_locale(locale), decimal_quantization=False)
