"""German and English in the back office: SQLAdmin's own catalog for its texts, ours for everything we add."""

from __future__ import annotations

from markupsafe import Markup, escape
from sqladmin import i18n as sqladmin_i18n

from app.i18n import translations


def admin_gettext(message: str) -> str:
    ours = translations(sqladmin_i18n.get_locale()).gettext(message)
    return ours if ours != message else sqladmin_i18n.gettext(message)


def admin_ngettext(singular: str, plural: str, n: int) -> str:
    ours = translations(sqladmin_i18n.get_locale()).ngettext(singular, plural, n)
    return ours if ours not in (singular, plural) else sqladmin_i18n.ngettext(singular, plural, n)


class LazyText(str):
    """A text defined at import time (view names, labels) and translated whenever it is shown.

    It stays a ``str`` (hashable, comparable by its English source) because SQLAdmin uses labels as keys.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return admin_gettext(str.__str__(self))

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy(message: str) -> LazyText:
    return LazyText(message)
