"""The base of every back-office model view: audited writes in one transaction, domain validation, formatting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqladmin import ModelView
from sqladmin._queries import Query
from sqladmin.helpers import object_identifier_values
from sqladmin.i18n import get_locale
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin.auth import StaffIdentity, client_ip
from admin.export import ExportMixin
from admin.i18n import admin_gettext
from admin.labels import state_label
from app import i18n, states
from app.actors import Actor
from app.audit.services import diff, record
from app.db.search import escape_like
from app.errors import Conflict
from app.i18n import N_

AUDIT_COLUMNS = ("created_at", "updated_at")


def staff_of(request: Request) -> StaffIdentity:
    staff = getattr(request.state, "staff", None)
    if staff is None:
        raise HTTPException(status_code=401)
    return cast("StaffIdentity", staff)


def actor_of(request: Request) -> Actor:
    staff = staff_of(request)
    return Actor.staff(staff.id, staff.email)


def snapshot(obj: Any) -> dict[str, Any]:
    """The row's business fields (its own timestamps would only add noise to every diff)."""
    return {
        attr.key: getattr(obj, attr.key) for attr in sa.inspect(type(obj)).column_attrs if attr.key not in AUDIT_COLUMNS
    }


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


@asynccontextmanager
async def readable_constraint_errors() -> AsyncIterator[None]:
    """A database constraint refusing a form (unique slug, check) becomes a message staff can act on."""
    try:
        yield
    except IntegrityError as exc:
        driver_error = getattr(exc.orig, "__cause__", None)  # asyncpg's exception carries the constraint
        constraint = getattr(driver_error, "constraint_name", None) or "a database rule"
        raise Conflict(f"Not saved: the values conflict with {constraint} (a duplicate or an invalid value)") from exc


# -- the base view ---------------------------------------------------------------------------------------------


class SmplatModelView(ExportMixin, ModelView):
    """Every write runs in one transaction with its audit_log row; ``validate`` applies domain rules."""

    form_excluded_columns = list(AUDIT_COLUMNS)
    page_size = 50
    page_size_options = [25, 50, 100]
    can_import = False
    export_max_rows = 10_000  # finance exports at scale come from reports/, not from list pages

    def _stmt_by_identifier(self, identifier: str) -> Any:
        """A pk that cannot name a row (``abc``, ``1.5``, beyond bigint) is a 404, not a server error."""
        try:
            values = object_identifier_values(identifier, self.model)
        except (ValueError, TypeError) as exc:
            raise HTTPException(status_code=404) from exc
        if any(isinstance(value, int) and not -(2**63) <= value < 2**63 for value in values):
            raise HTTPException(status_code=404)
        return super()._stmt_by_identifier(identifier)

    def search_query(self, stmt: Any, term: str) -> Any:
        """SQLAdmin's ILIKE search, with % and _ taken literally (as in the order search)."""
        return super().search_query(stmt, escape_like(term))

    def search_placeholder(self) -> str:
        # str() each label: translated labels render in the staff member's language.
        return ", ".join(str(self._column_labels.get(field, field)) for field in self._search_fields)

    async def validate(self, session: AsyncSession, obj: Any, *, is_created: bool, request: Request) -> None:
        """Domain checks before the write is committed; raise DomainError to refuse it (shown on the form)."""

    async def create_object(self, session: AsyncSession, data: dict[str, Any], request: Request) -> Any:
        """Build and add the new object; views whose domain has a service override this to call it."""
        obj = self._get_model_object(data)
        await self.on_model_change(data, obj, True, request)
        obj = await Query(self)._set_attributes_async(session, obj, data)
        session.add(obj)
        await self.validate(session, obj, is_created=True, request=request)
        return obj

    async def update_object(self, session: AsyncSession, obj: Any, data: dict[str, Any], request: Request) -> Any:
        await self.on_model_change(data, obj, False, request)
        obj = await Query(self)._set_attributes_async(session, obj, data)
        await self.validate(session, obj, is_created=False, request=request)
        return obj

    async def insert_model(self, request: Request, data: dict[str, Any]) -> Any:
        async with self.session_maker(expire_on_commit=False) as session, readable_constraint_errors():
            obj = await self.create_object(session, data, request)
            await session.flush()
            self._audit(session, request, "create", obj, {}, snapshot(obj))
            await session.commit()
        Query._store_after_change_response(request, await self.after_model_change(data, obj, True, request))
        return obj

    async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
        stmt = self._stmt_by_identifier(pk)
        for relation in self._form_relations:
            stmt = stmt.options(sa.orm.selectinload(relation))
        async with self.session_maker(expire_on_commit=False) as session, readable_constraint_errors():
            obj = (await session.execute(stmt)).scalars().first()
            if obj is None:
                raise HTTPException(status_code=404)
            before = snapshot(obj)
            obj = await self.update_object(session, obj, data, request)
            await session.flush()
            self._audit(session, request, "update", obj, before, snapshot(obj))
            await session.commit()
        Query._store_after_change_response(request, await self.after_model_change(data, obj, False, request))
        return obj

    async def delete_model(self, request: Request, pk: Any) -> None:
        async with self.session_maker(expire_on_commit=False) as session:
            obj = (await session.execute(self._stmt_by_identifier(pk))).scalars().first()
            if obj is None:
                raise HTTPException(status_code=404)
            await self.on_model_delete(obj, request)
            self._audit(session, request, "delete", obj, snapshot(obj), {})
            await session.delete(obj)
            await session.commit()
        await self.after_model_delete(obj, request)

    def _get_model_object(self, data: dict[str, Any]) -> Any:
        return Query(self)._get_model_object(data)

    def _audit(
        self,
        session: AsyncSession,
        request: Request,
        action: str,
        obj: Any,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        staff = staff_of(request)
        record(
            session,
            actor_id=staff.id,
            actor_label=staff.email,
            action=action,
            entity_type=self.identity,
            entity_id=getattr(obj, "id", None),
            changes=diff(before, after),
            ip=client_ip(request),
        )


def human_age(moment: Any) -> str:
    """How long ago, short: 45 s, 12 min, 5 h, 3 d."""
    if moment is None:
        return "–"
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


class ReadOnlyView(SmplatModelView):
    """Records staff look at but never create, edit or delete here (orders, payments, events, …)."""

    can_create = False
    can_edit = False
    can_delete = False
