"""The base of every back-office model view: forms saved through domain commands in one unit of work, formatting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

import sqlalchemy as sa
import structlog
from markupsafe import Markup, escape
from sqladmin.formatters import BASE_FORMATTERS
from sqladmin.i18n import get_locale
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException
from starlette.requests import Request
from wtforms import Form

from admin import sqladmin_compat as compat
from admin.auth import StaffIdentity, client_ip
from admin.export import ExportMixin
from admin.forms import (
    VERSION_FIELD,
    SmplatConverter,
    SmplatForm,
    keep_version,
    show_refusal,
    with_version_field,
)
from admin.i18n import admin_gettext, lazy
from admin.labels import ENUM_FORMATTERS, FIELD_LABELS, state_label
from app import i18n, states
from app.actors import Actor
from app.db.errors import database_refusal
from app.db.search import escape_like
from app.editing import TIMESTAMPS, RecordChanged, version_token
from app.errors import DomainError, ValidationFailed
from app.i18n import N_
from app.uow import UnitOfWork, unit_of_work
from app.validation import parse_id

log = structlog.get_logger(__name__)


def staff_of(request: Request) -> StaffIdentity:
    staff = getattr(request.state, "staff", None)
    if staff is None:
        raise HTTPException(status_code=401)
    return cast("StaffIdentity", staff)


def actor_of(request: Request) -> Actor:
    staff = staff_of(request)
    return Actor.staff(staff.id, staff.email)


# -- formatters (list and detail) ------------------------------------------------------------------------------


def _path(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
    return obj


def money(field: str, currency_field: str = "currency") -> Any:
    """Amount with its currency, formatted for the staff member's language."""

    def format_value(model: Any, _attribute: Any) -> str:
        return i18n.format_money(_path(model, field), _path(model, currency_field) or "EUR", get_locale())

    return format_value


def when(field: str) -> Any:
    """Berlin time for people, the UTC instant on hover."""

    def format_value(model: Any, _attribute: Any) -> Markup | str:
        value = getattr(model, field)
        if value is None:
            return "–"
        shown = i18n.format_datetime(value, get_locale(), "short")
        return Markup('<span title="{} UTC">{}</span>').format(value.strftime("%Y-%m-%d %H:%M:%S"), shown)

    return format_value


def day(field: str) -> Any:
    """The Berlin day for people (a document's date, as printed on it), the Berlin time on hover."""

    def format_value(model: Any, _attribute: Any) -> Markup | str:
        value = getattr(model, field)
        if value is None:
            return "–"
        locale = get_locale()
        shown = i18n.format_date(value.astimezone(i18n.BERLIN).date(), locale, "short")
        return Markup('<span title="{}">{}</span>').format(i18n.format_datetime(value, locale, "short"), shown)

    return format_value


ACTIVITY_BADGES = {"active": ("green", N_("active")), "inactive": ("secondary", N_("inactive"))}


def badge_html(value: Any) -> Markup:
    """A state as a coloured badge: colour and label from its machine's table (app/states.py)."""
    text = str(getattr(value, "value", value))
    entry = states.info(value)
    colour = entry.badge if entry else "secondary"
    return Markup('<span class="badge bg-{}-lt" data-state="{}">{}</span>').format(colour, text, state_label(value))


def active_badge(model: Any, _attribute: Any) -> Markup:
    state = "active" if model.is_active else "inactive"
    colour, text = ACTIVITY_BADGES[state]
    return Markup('<span class="badge bg-{}-lt" data-state="{}">{}</span>').format(colour, state, admin_gettext(text))


def badge(field: str) -> Any:
    def format_value(model: Any, _attribute: Any) -> Markup:
        return badge_html(getattr(model, field))

    return format_value


def link_to(url: str, text: Any) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, escape(text))


def shortened(text: Any, width_rem: float, full: Any = None) -> Markup:
    """``text`` cut to ``width_rem`` with an ellipsis where longer, the whole (or ``full``) on hover: lists keep
    one line per record and fit the screen."""
    return Markup(
        '<span class="d-inline-block text-truncate align-bottom" style="max-width: {}rem" title="{}">{}</span>'
    ).format(width_rem, text if full is None else full, text)


def shortened_field(field: str, width_rem: float) -> Any:
    """A list formatter showing ``field`` :func:`shortened` (a dash when empty)."""

    def format_value(model: Any, _attribute: Any) -> Markup | str:
        value = getattr(model, field)
        return shortened(value, width_rem) if value else "–"

    return format_value


# -- the base view ---------------------------------------------------------------------------------------------


def _foreign_key(relation: Any) -> str:
    """The column holding a many-to-one relation's id (``category`` -> ``category_id``)."""
    return str(relation.local_remote_pairs[0][0].key)


@dataclass(frozen=True)
class FormCommands:
    """The domain commands a view's create and edit forms save through.

    ``create(uow, *, values, actor)``; ``update(uow, *, <id_name>=id, values, version, actor)``, where a view
    of a single record (company settings) has no id to pass.
    """

    create: Callable[..., Awaitable[Any]]
    update: Callable[..., Awaitable[Any]]
    id_name: str | None


class SmplatModelView(ExportMixin, compat.RecordStatementHook):
    """Create and edit forms save through the view's domain commands, in one unit of work.

    The admin only parses the form into values (``command_values``); the command (``form_commands``, or
    ``create_command`` / ``update_command`` overridden where a form needs more) locks the row, checks the
    version the form was opened with, applies the domain's rules, writes the audit row and flushes; the unit of
    work commits. A refusal is shown on the form, on the fields it names, with the user's input kept. Nobody
    deletes records in the back office.
    """

    form_commands: ClassVar[FormCommands | None] = None
    can_delete = False
    # Every field has a label in both languages (admin/labels.py); a view's own labels win.
    column_type_formatters = {**BASE_FORMATTERS, **ENUM_FORMATTERS}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.column_labels = {**{name: lazy(text) for name, text in FIELD_LABELS.items()}, **cls.column_labels}

    form_excluded_columns = list(TIMESTAMPS)
    form_converter = SmplatConverter
    form_base_class = SmplatForm
    page_size = 50
    page_size_options = [25, 50, 100]
    can_import = False
    export_max_rows = 10_000  # finance exports at scale come from reports/, not from list pages

    def record_statement(self, identifier: str) -> Any:
        """A pk that cannot name a row (``abc``, ``1.5``, beyond bigint) is a 404, not a server error."""
        try:
            values = compat.object_identifier_values(identifier, self.model)
        except (ValueError, TypeError) as exc:
            raise HTTPException(status_code=404) from exc
        if any(isinstance(value, int) and not -(2**63) <= value < 2**63 for value in values):
            raise HTTPException(status_code=404)
        return super().record_statement(identifier)

    def search_query(self, stmt: Any, term: str) -> Any:
        """SQLAdmin's ILIKE search, with % and _ taken literally (as in the order search)."""
        return super().search_query(stmt, escape_like(term))

    def search_placeholder(self) -> str:
        # str() each label: translated labels render in the staff member's language.
        return ", ".join(compat.column_label(self, field) for field in compat.search_fields(self))

    @property
    def _sessions(self) -> async_sessionmaker[AsyncSession]:
        return cast("async_sessionmaker[AsyncSession]", self.session_maker)

    # -- forms ---------------------------------------------------------------------------------------------------

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        return with_version_field(await super().scaffold_form(rules))

    async def get_form_data_for_edit(self, obj: Any) -> dict[str, Any]:
        data = await super().get_form_data_for_edit(obj)
        data[VERSION_FIELD] = version_token(obj)
        return data

    def command_values(self, data: dict[str, Any]) -> dict[str, Any]:
        """The form's data as a command takes it: a chosen related record as its id (``category`` ->
        ``category_id``), a blank optional field as None."""
        mapper: sa.orm.Mapper[Any] = sa.inspect(self.model)
        values: dict[str, Any] = {}
        for key, raw in data.items():
            relation = mapper.relationships.get(key)
            if relation is not None and relation.direction.name == "MANYTOONE":
                values[_foreign_key(relation)] = self._related_id(key, raw)
                continue
            # Browsers submit a textarea's line breaks as CRLF; the record keeps plain newlines.
            value = raw.replace("\r\n", "\n") if isinstance(raw, str) else raw
            column = mapper.columns.get(key)
            blank = isinstance(value, str) and not value.strip()
            values[key] = None if column is not None and column.nullable and blank else value
        return values

    @staticmethod
    def _related_id(name: str, value: Any) -> int | None:
        if value is None or value == "":
            return None
        related_id = getattr(value, "id", None)
        if isinstance(related_id, int):
            return related_id
        parsed = parse_id(str(value))
        if parsed is None:
            raise ValidationFailed({name: N_("is not one of the choices")})
        return parsed

    def _form_field_names(self) -> dict[str, str]:
        """Domain field name -> form field name, where they differ (a foreign key and its relation)."""
        mapper: sa.orm.Mapper[Any] = sa.inspect(self.model)
        return {
            _foreign_key(relation): relation.key
            for relation in mapper.relationships
            if relation.direction.name == "MANYTOONE"
        }

    @asynccontextmanager
    async def _refusals(self) -> AsyncIterator[None]:
        """A refused save becomes messages on the form; the database is never quoted (no SQL, no values)."""
        labels = {str(key): str(label) for key, label in compat.column_labels(self).items()}
        try:
            yield
        except DomainError as exc:
            if isinstance(exc, RecordChanged):
                keep_version(exc.current_version)
            raise show_refusal(exc, self._form_field_names(), labels) from exc
        except DBAPIError as exc:
            log.warning("database refused a form", view=self.identity, error=type(exc.orig).__name__)
            raise show_refusal(database_refusal(exc, self.model), self._form_field_names(), labels) from exc

    # -- the commands behind the forms --------------------------------------------------------------------------

    def _form_commands(self) -> FormCommands:
        if self.form_commands is None:  # a view without commands has no forms (can_create/can_edit False)
            raise HTTPException(status_code=405)
        return self.form_commands

    async def create_command(self, uow: UnitOfWork, values: dict[str, Any], *, actor: Actor, request: Request) -> Any:
        return await self._form_commands().create(uow, values=values, actor=actor)

    async def update_command(
        self,
        uow: UnitOfWork,
        record_id: int,
        values: dict[str, Any],
        *,
        version: str | None,
        actor: Actor,
        request: Request,
    ) -> Any:
        commands = self._form_commands()
        ids = {commands.id_name: record_id} if commands.id_name else {}
        return await commands.update(uow, **ids, values=values, version=version, actor=actor)

    # -- SQLAdmin's write entry points ------------------------------------------------------------------------------

    async def insert_model(self, request: Request, data: dict[str, Any]) -> Any:
        data.pop(VERSION_FIELD, None)
        async with self._refusals():
            values = self.command_values(data)
            async with unit_of_work(self._sessions, ip=client_ip(request)) as uow:
                obj = await self.create_command(uow, values, actor=actor_of(request), request=request)
        compat.store_after_change_response(request, await self.after_model_change(data, obj, True, request))
        return obj

    async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
        version = data.pop(VERSION_FIELD, None) or None
        record_id = parse_id(str(pk))
        if record_id is None:
            raise HTTPException(status_code=404)
        async with self._refusals():
            values = self.command_values(data)
            async with unit_of_work(self._sessions, ip=client_ip(request)) as uow:
                obj = await self.update_command(
                    uow, record_id, values, version=version, actor=actor_of(request), request=request
                )
        compat.store_after_change_response(request, await self.after_model_change(data, obj, False, request))
        return obj

    async def delete_model(self, request: Request, pk: Any) -> None:
        raise HTTPException(status_code=405)  # records are never deleted in the back office


AGE_UNITS = ((N_("%(count)s d"), 86400), (N_("%(count)s h"), 3600), (N_("%(count)s min"), 60), (N_("%(count)s s"), 1))


def human_age(moment: Any) -> str:
    """How long ago, short, in the staff member's language: 45 s, 12 min, 5 h, 3 d (German: 3 T)."""
    if moment is None:
        return "–"
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    text, size = next(((text, size) for text, size in AGE_UNITS if seconds >= size), AGE_UNITS[-1])
    return admin_gettext(text) % {"count": seconds // size}


class ReadOnlyView(SmplatModelView):
    """Records staff look at but never create or edit here (orders, payments, events, …)."""

    can_create = False
    can_edit = False
