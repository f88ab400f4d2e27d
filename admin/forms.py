"""Back-office forms: how model columns become fields, and how a refused save lands on the form.

- Enum columns (VARCHAR + CHECK holding the members' *values*, see ``app.db.base.enum_type``) become selects
  whose options are those values and whose current value is preselected. SQLAdmin's own conversion compares
  member *names* with the values, so no option was ever selected and saving reset the field to the first one.
- Decimal columns (money, rates) are text inputs read and shown in the staff member's language: ``2,49`` in
  German, ``2.49`` in English (``app.i18n.parse_number``, strict). A browser's number input would drop the
  comma of a German price; a lenient parser would drop a misplaced separator.
- Every form carries the record's version token (``VERSION_FIELD``) so that a save over someone else's change
  is refused instead of silently reverting it (``app.editing.check_version``).
- A refusal from the domain is shown on the fields it names (``show_refusal``) and the user's input stays.
"""

from __future__ import annotations

import enum
import logging
from contextvars import ContextVar
from typing import Any

from sqladmin.fields import SelectField
from sqladmin.forms import ModelConverter, converts
from sqladmin.i18n import get_locale
from sqlalchemy.orm import ColumnProperty
from wtforms import Field, Form, HiddenField, validators
from wtforms.fields.core import UnboundField
from wtforms.widgets import TextInput

from admin import sqladmin_compat as compat
from admin.i18n import admin_gettext
from admin.labels import choice_label, field_label
from app import i18n
from app.date_input import day_input_value, parse_day_input
from app.errors import DomainError, ValidationFailed
from app.i18n import N_

VERSION_FIELD = "record_version"
NUL_REFUSED = N_("must not contain NUL characters")

_current_form: ContextVar[Form | None] = ContextVar("smplat_current_form", default=None)


class FormRefused(Exception):
    """A save the domain refused; ``str()`` is the message for the top of the form, in the staff's language."""


class _QuietRefusals(logging.Filter):
    """SQLAdmin logs every exception of a save with its traceback; a refused form is not an error to log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], FormRefused)) and not isinstance(
            record.msg, FormRefused
        )


logging.getLogger(compat.SAVE_LOGGER).addFilter(_QuietRefusals())


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


class SmplatForm(Form):  # type: ignore[misc]
    """The base of every model form: remembers itself for the request (to receive the domain's field errors)
    and refuses NUL characters in any field before anything else looks at them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _current_form.set(self)

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        for field in self:
            if any(isinstance(raw, str) and "\x00" in raw for raw in field.raw_data or ()):
                field.errors = [*field.errors, admin_gettext(NUL_REFUSED)]
                valid = False
        return valid


class TypedTextField(Field):  # type: ignore[misc]
    """A text input read into a value by :meth:`parse`; blank is no value, a NUL is refused in ``validate``, what
    ``parse`` refuses is the field's error. What was typed is shown again as typed."""

    widget = TextInput()

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def show(self, data: Any) -> str:
        raise NotImplementedError

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return self.show(self.data)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0])
        self.data = None
        if not text.strip() or "\x00" in text:
            return  # blank (required-ness is the validators' and the domain's call); NUL: refused in validate
        self.data = self.parse(text)


class LocaleDecimalField(TypedTextField):
    """A decimal as the staff member writes it (``2,49`` / ``2.49``); shown the same way, never silently changed."""

    def __init__(self, label: Any = None, validators: Any = None, places: int | None = None, **kwargs: Any) -> None:
        kwargs.pop("rounding", None)
        render_kw = dict(kwargs.pop("render_kw", None) or {})
        render_kw.setdefault("inputmode", "decimal")
        render_kw.setdefault("autocomplete", "off")
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.places = places

    def show(self, data: Any) -> str:
        return i18n.format_number_input(data, self.places, get_locale())

    def parse(self, text: str) -> Any:
        try:
            return i18n.parse_number(text, get_locale())
        except i18n.NumberInputError as exc:
            raise ValueError(exc.text.render(admin_gettext)) from exc


class DayField(TypedTextField):
    """A day as the staff member types it (``31.01.2026`` on German pages, the date picker's ISO on English ones;
    both read back by ``app.date_input``); rendered by the ``day_input`` template macro."""

    def show(self, data: Any) -> str:
        return day_input_value(data, get_locale())

    def parse(self, text: str) -> Any:
        try:
            return parse_day_input(text)
        except ValueError as exc:
            raise ValueError(admin_gettext(N_("Enter a date like 2026-01-31."))) from exc


class SmplatConverter(ModelConverter):
    @converts("Enum")  # type: ignore[untyped-decorator]
    def conv_enum(self, model: type, prop: ColumnProperty[Any], kwargs: dict[str, Any]) -> UnboundField[Any]:
        column = prop.columns[0]
        values = list(column.type.enums)  # type: ignore[attr-defined]  # the stored values, not member names
        accepted: list[Any] = list(values)
        if column.nullable:
            kwargs.setdefault("allow_blank", True)
            accepted.append(None)
            kwargs["filters"] = [*kwargs.get("filters", []), lambda value: value or None]
        enum = getattr(column.type, "enum_class", None)
        kwargs["choices"] = [(value, choice_label(enum, value)) for value in values]
        kwargs["validators"] = [*kwargs.get("validators", []), validators.AnyOf(accepted)]
        kwargs.setdefault("coerce", lambda value: None if value is None else str(_enum_value(value)))
        return SelectField(**kwargs)

    @converts("Numeric")  # type: ignore[untyped-decorator]
    def conv_decimal(self, model: type, prop: ColumnProperty[Any], kwargs: dict[str, Any]) -> UnboundField[Any]:
        kwargs.pop("places", None)
        return LocaleDecimalField(places=getattr(prop.columns[0].type, "scale", None), **kwargs)


def with_version_field(form_class: type[Form]) -> type[Form]:
    return type(form_class.__name__, (form_class,), {VERSION_FIELD: HiddenField()})


def current_form() -> Form | None:
    return _current_form.get()


def show_refusal(exc: DomainError, field_names: dict[str, str], labels: dict[str, str]) -> FormRefused:
    """Put the domain's field errors on the form's fields (``field_names`` maps domain to form names) and return
    what to raise so that the form is shown again, with the user's input, and a message on top."""
    form = current_form()
    if not isinstance(exc, ValidationFailed):
        return FormRefused(exc.translated(admin_gettext))
    elsewhere = []
    for name, text in exc.field_errors(admin_gettext).items():
        wanted = field_names.get(name, name)
        field = form[wanted] if form is not None and wanted in form else None
        if field is not None and field.name != VERSION_FIELD:
            field.errors = [*field.errors, text]
        else:
            elsewhere.append(f"{labels.get(name) or field_label(name)}: {text}" if name else text)
    summary = admin_gettext(N_("Not saved: please correct the marked fields."))
    return FormRefused(" ".join([summary, *elsewhere]) if elsewhere else summary)


def keep_version(version: str) -> None:
    """After a refused save over someone else's change: the form now carries their version, so that saving again
    is a deliberate overwrite."""
    form = current_form()
    if form is not None and VERSION_FIELD in form:
        form[VERSION_FIELD].data = version
        form[VERSION_FIELD].raw_data = [version]
