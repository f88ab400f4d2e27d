"""Business actions in the back office: confirm (GET), act through a domain service (POST), report, audit.

Declaring one is a few lines on a ModelView::

    @business_action("hold-line", "Hold", fields=[ActionField("reason", "Reason")])
    async def hold(self, ctx: ActionContext) -> str:
        ...call one domain service per selected object...
        return "2 lines held"

GET shows what will happen to which records and asks for the fields; POST (with the CSRF token) opens one unit
of work, in which the handler calls one domain command for all selected records (the command writes the event
and audit rows), then flashes the result and returns to where the user came from. A DomainError rolls
everything back and is shown on the form, in the staff member's language: nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqladmin import action
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import Select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.auth import client_ip
from admin.base import actor_of
from admin.i18n import admin_gettext
from admin.labels import field_label
from app.actors import Actor
from app.errors import DomainError, ValidationFailed
from app.i18n import N_
from app.payments.gateway import PaymentGateway
from app.uow import UnitOfWork, unit_of_work
from app.validation import parse_id

MAX_FIELD_LENGTH = 2000


@dataclass(frozen=True)
class ActionField:
    name: str
    label: str
    kind: str = "text"  # text | textarea | choice | amount (a money amount: the decimal keypad on phones)
    required: bool = True
    choices: Sequence[tuple[str, str]] = ()
    help: str = ""
    # Choices that depend on the selected records (view, pks) -> choices; they replace ``choices``.
    load_choices: Callable[[Any, list[int]], Awaitable[Sequence[tuple[str, str]]]] | None = None


@dataclass
class ActionContext:
    request: Request
    unit: UnitOfWork | None
    pks: list[int]
    values: dict[str, str]
    actor: Actor
    sessions: async_sessionmaker[AsyncSession]
    ip: str | None = None
    results: list[str] = field(default_factory=list)
    # Where the user lands when done, when not back where they came from (e.g. the record the action created).
    redirect_to: str | None = None

    @property
    def uow(self) -> UnitOfWork:
        """The action's unit of work (absent for ``opens_units`` actions, which open their own)."""
        if self.unit is None:
            raise RuntimeError("this action opens its own units of work (ctx.sessions)")
        return self.unit

    @property
    def session(self) -> AsyncSession:
        return self.uow.session

    @property
    def payments(self) -> PaymentGateway | None:
        """The payment processor the app is configured with (None: no card payments)."""
        gateway: PaymentGateway | None = getattr(self.request.app.state, "payment_gateway", None)
        return gateway


Handler = Callable[[Any, ActionContext], Awaitable[str]]
Preview = Callable[[Any, list[int]], Awaitable[list[str]]]


def done_message(template: str, items: Sequence[str]) -> str:
    """A translated result line such as "On hold: SMP-2026-000012/1, SMP-2026-000014/2"."""
    return admin_gettext(template) % {"items": ", ".join(items)}


def _back_url(request: Request, fallback: str) -> str:
    candidate = request.query_params.get("next") or request.headers.get("referer") or ""
    parts = urlsplit(candidate)
    same_site = not parts.netloc or parts.netloc == request.url.netloc
    if same_site and parts.path.startswith("/admin") and "/action/" not in parts.path:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return fallback


def _parse_pks(raw: str) -> list[int]:
    """The selected ids, each once, in the order given (``4,4,4`` is one record)."""
    return list(dict.fromkeys(pk for pk in (parse_id(part) for part in raw.split(",")) if pk is not None))


def _field_errors(fields: Sequence[ActionField], values: dict[str, str]) -> dict[str, str]:
    """Required fields that are empty, and choices that are not among the offered ones."""
    errors = {}
    for f in fields:
        value = values[f.name]
        if f.required and not value:
            errors[f.name] = admin_gettext(N_("required"))
        elif f.kind == "choice" and value and value not in {key for key, _label in f.choices}:
            errors[f.name] = admin_gettext(N_("choose one of the offered options"))
    return errors


def business_action(
    slug: str,
    label: str,
    *,
    description: str,
    fields: Sequence[ActionField] = (),
    add_in_list: bool = True,
    add_in_detail: bool = True,
    danger: bool = False,
    show_result: bool = False,
    opens_units: bool = False,
    preview: Preview | None = None,
) -> Callable[[Handler], Any]:
    """``show_result`` shows the handler's message on a page instead of a passing toast (e.g. a new password).

    ``opens_units``: the handler opens its own units of work (``ctx.sessions``) because it calls something
    outside the database between them (a refund at the payment processor); ``ctx.uow`` is then not available.
    ``preview`` lists what will happen (e.g. the amounts) on the confirmation page.
    """

    def decorate(handler: Handler) -> Any:
        async def endpoint(self: Any, request: Request) -> Any:
            pks = _parse_pks(request.query_params.get("pks", ""))
            back = _back_url(request, str(request.url_for("admin:list", identity=self.identity)))
            context: dict[str, Any] = {
                "model_view": self,
                "action_label": label,
                "description": description,
                "fields": fields,
                "danger": danger,
                "back": back,
                "values": {},
                "error": None,
                "field_errors": {},
                "objects": await self.objects_for_action(pks) if pks else [],
                "result": None,
                "preview": [],
            }
            if not pks:
                context["error"] = admin_gettext(N_("Select at least one record first."))
                return await self._render_action(request, context, status_code=400)
            if not context["objects"]:
                context["error"] = admin_gettext(N_("The selected records no longer exist."))
                return await self._render_action(request, context, status_code=404)
            if preview is not None:
                context["preview"] = await preview(self, pks)
            shown = [replace(f, choices=await f.load_choices(self, pks)) if f.load_choices else f for f in fields]
            context["fields"] = shown
            if request.method != "POST":
                return await self._render_action(request, context)

            form = await request.form()
            values = {f.name: str(form.get(f.name, "")).strip()[:MAX_FIELD_LENGTH] for f in shown}
            context["values"] = values
            invalid = _field_errors(shown, values)
            if invalid:
                context["field_errors"] = invalid
                context["error"] = admin_gettext(N_("Please fill in the marked fields."))
                return await self._render_action(request, context, status_code=400)
            ip, actor = client_ip(request), actor_of(request)
            ctx: ActionContext | None = None
            try:
                if opens_units:
                    ctx = ActionContext(request, None, pks, values, actor, self.session_maker, ip)
                    message = await handler(self, ctx)
                else:
                    async with unit_of_work(self.session_maker, ip=ip) as uow:
                        ctx = ActionContext(request, uow, pks, values, actor, self.session_maker, ip)
                        message = await handler(self, ctx)
            except ValidationFailed as exc:
                context["field_errors"] = exc.field_errors(admin_gettext)
                context["error"] = refusal_summary(context["field_errors"], shown)
                return await self._render_action(request, context, status_code=400)
            except DomainError as exc:
                context["error"] = exc.translated(admin_gettext)
                return await self._render_action(request, context, status_code=409)
            if show_result:
                context.update(result=message, fields=())
                return await self._render_action(request, context)
            Flash.success(request, message)
            return RedirectResponse((ctx and ctx.redirect_to) or back, status_code=303)

        endpoint.__name__ = handler.__name__
        endpoint.__qualname__ = handler.__qualname__
        endpoint.__doc__ = handler.__doc__
        endpoint.danger = danger  # type: ignore[attr-defined]
        return action(name=slug, label=label, add_in_list=add_in_list, add_in_detail=add_in_detail)(endpoint)

    return decorate


def refusal_summary(errors: dict[str, str], fields: Sequence[ActionField]) -> str:
    """The message on top of a refused action form: errors on its fields are shown there; any other is named by
    its label, never by the code's field name."""
    on_form = {field.name for field in fields}
    elsewhere = [
        f"{field_label(name)}: {text}" if name else text for name, text in errors.items() if name not in on_form
    ]
    return " ".join([admin_gettext(N_("Not saved: please correct the marked fields.")), *elsewhere])


class ActionsMixin:
    """For ModelViews with business actions: how the selected records are shown on the confirmation page."""

    @classmethod
    def danger_actions(cls) -> frozenset[str]:
        """The slugs of the view's actions that cannot be undone (shown as red buttons)."""
        methods: list[Any] = [getattr(cls, name, None) for name in dir(cls)]
        return frozenset(method._slug for method in methods if getattr(method, "danger", False) is True)

    def action_query(self) -> Select[Any]:
        """The selected records, with what ``describe_for_action`` reads loaded."""
        return sa.select(self.model)  # type: ignore[attr-defined]

    async def objects_for_action(self, pks: list[int]) -> list[Any]:
        async with self.session_maker(expire_on_commit=False) as session:  # type: ignore[attr-defined]
            stmt = self.action_query().where(self.model.id.in_(pks))  # type: ignore[attr-defined]
            return list((await session.scalars(stmt)).unique().all())

    async def _render_action(self, request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
        return await self.templates.TemplateResponse(  # type: ignore[attr-defined,no-any-return]
            request, "smplat/action.html", context, status_code=status_code
        )
