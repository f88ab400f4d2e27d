"""Checkout links in the back office: create one for a customer (the URL shown once), see its status and orders,
withdraw it.

The create form is SQLAdmin's own create page with our fields: a customer (searched as you type), up to
``FORM_LINES`` service lines (blank rows are ignored), a validity date, the number of uses and a note. The form
only parses; ``app.payments.links.create_checkout_link`` decides, and its refusals land on the fields they name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import validators as v

from admin import sqladmin_compat as compat
from admin.actions import ActionContext, ActionsMixin, business_action, done_message
from admin.auth import client_ip
from admin.base import ReadOnlyView, actor_of, badge_html, money, when
from admin.forms import DayField, FormRefused, LocaleDecimalField, SmplatForm
from admin.i18n import admin_gettext, lazy
from app.actors import Actor
from app.catalog.models import PRICE_BASIS, Category, Service, ServiceKind
from app.config import get_settings
from app.errors import ValidationFailed
from app.i18n import N_
from app.orders.placing import LineInput
from app.payments import links
from app.payments.models import CheckoutLink
from app.uow import UnitOfWork, unit_of_work, utc_now
from app.validation import parse_id

FORM_LINES = 5
BERLIN = ZoneInfo("Europe/Berlin")
LINE_FIELDS = ("service", "link", "quantity", "unit_price")
FORM_FIELD_OF = {"expires_at": "valid_until"}


def default_validity() -> date:
    return (utc_now() + links.DEFAULT_LIFETIME).astimezone(BERLIN).date()


class LineForm(Form):  # type: ignore[misc]
    service = SelectField(lazy("Service"), choices=[], validate_choice=False)
    link = StringField(lazy("Link"), validators=[v.Optional(), v.Length(max=2000)])
    quantity = IntegerField(lazy("Quantity"), validators=[v.Optional()])
    unit_price = LocaleDecimalField(lazy("Price override"), validators=[v.Optional()], places=4)


class CheckoutLinkForm(SmplatForm):
    customer = StringField(lazy("Customer"))  # replaced by the view's ajax select
    lines = FieldList(FormField(LineForm), min_entries=FORM_LINES, max_entries=FORM_LINES)
    override_reason = StringField(lazy("Reason for the price override"), validators=[v.Length(max=500)])
    valid_until = DayField(lazy("Valid until"), default=default_validity)
    max_uses = IntegerField(lazy("Uses"), default=1, validators=[v.InputRequired()])
    note = TextAreaField(lazy("Internal note"), validators=[v.Optional()])
    email_customer = BooleanField(lazy("Email the link to the customer"), default=False)


def end_of_day(day: date) -> datetime:
    """A validity date means "until that day ends" in Berlin, where staff and most clients are."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=BERLIN)


def pay_url(token: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/pay/{token}"


def status_badge(link: CheckoutLink, _attribute: Any) -> Markup:
    uses = getattr(link, "uses", None)
    return badge_html(links.link_status(link, now=utc_now(), uses=0 if uses is None else uses))


def customer_name(link: CheckoutLink, _attribute: Any) -> Markup:
    return Markup("{}").format(link.customer.display_name)


def _service_choices(services: Sequence[Service]) -> list[tuple[str, str]]:
    return [("", "–")] + [
        (str(s.id), f"{s.name_en} · {s.price.normalize():f} {s.currency} / {PRICE_BASIS[s.kind].value}")
        for s in services
    ]


class CheckoutLinkAdmin(ActionsMixin, ReadOnlyView, model=CheckoutLink):
    name = lazy("Checkout link")
    name_plural = lazy("Checkout links")
    icon = "fa-solid fa-link"
    category = lazy("Sales")
    can_create = True
    create_template = "smplat/checkout_link_create.html"
    details_template = "smplat/checkout_link_details.html"
    form_ajax_refs = {"customer": {"fields": ("email", "name", "company"), "order_by": "id"}}
    column_list = [
        CheckoutLink.id,
        CheckoutLink.customer,
        "status",
        CheckoutLink.expires_at,
        CheckoutLink.max_uses,
        CheckoutLink.created_at,
    ]
    column_labels = {
        "status": lazy("Status"),
        CheckoutLink.max_uses: lazy("Uses"),
        CheckoutLink.customer: lazy("Customer"),
    }
    column_default_sort = [(CheckoutLink.id, True)]
    column_details_exclude_list = [CheckoutLink.token_hash]
    column_formatters = {
        CheckoutLink.expires_at: when("expires_at"),
        CheckoutLink.created_at: when("created_at"),
        CheckoutLink.customer: customer_name,
        "status": status_badge,
    }

    # -- the create form ---------------------------------------------------------------------------------------------

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        from sqladmin.fields import AjaxSelectField  # noqa: PLC0415

        async with self.session_maker(expire_on_commit=False) as session:
            services = (
                await session.scalars(
                    sa.select(Service)
                    .join(Category)
                    .where(Service.is_active, Service.kind != ServiceKind.SUBSCRIPTION)
                    .order_by(Category.position, Service.position, Service.id)
                )
            ).unique()
            choices = _service_choices(list(services))

        class Line(LineForm):
            service = SelectField(lazy("Service"), choices=choices, validate_choice=False)

        class LinkForm(CheckoutLinkForm):
            customer = AjaxSelectField(self._form_ajax_refs["customer"], lazy("Customer"), allow_blank=True)
            lines = FieldList(FormField(Line), min_entries=FORM_LINES, max_entries=FORM_LINES)

        return LinkForm

    async def insert_model(self, request: Request, data: dict[str, Any]) -> Any:
        rows = [(index, row) for index, row in enumerate(data.get("lines") or []) if _filled(row)]
        errors: dict[str, str] = {}
        items: list[LineInput] = []
        for index, row in rows:
            service_id = parse_id(str(row.get("service") or ""))
            if service_id is None:
                errors[f"lines[{index}].service"] = admin_gettext(N_("required"))
            if row.get("quantity") is None:
                errors[f"lines[{index}].quantity"] = admin_gettext(N_("required"))
            items.append(
                LineInput(
                    service_id=service_id or 0,
                    link=str(row.get("link") or "").strip(),
                    quantity=int(row.get("quantity") or 0),
                    unit_price=row.get("unit_price"),
                )
            )
        customer_id = parse_id(str(data.get("customer") or ""))
        if customer_id is None:
            errors["customer"] = admin_gettext(N_("required"))
        if data.get("valid_until") is None:
            errors["valid_until"] = admin_gettext(N_("required"))
        if errors:
            raise _refused(request, errors)
        values = {
            "customer_id": customer_id or 0,
            "items": items,
            "expires_at": end_of_day(data["valid_until"]),
            "max_uses": int(data.get("max_uses") or 0),
            "note": data.get("note"),
            "override_reason": data.get("override_reason"),
            "email_customer": bool(data.get("email_customer")),
        }
        try:
            async with unit_of_work(self._sessions, ip=client_ip(request)) as uow:
                link = await self.create_command(uow, values, actor=actor_of(request), request=request)
        except ValidationFailed as exc:
            raise _refused(request, _form_errors(exc, [index for index, _row in rows])) from exc
        compat.store_after_change_response(request, await self.after_model_change(data, link, True, request))
        return link

    async def create_command(self, uow: UnitOfWork, values: dict[str, Any], *, actor: Actor, request: Request) -> Any:
        """The link through its command; its address is shown once, on the page after saving."""
        created = await links.create_checkout_link(uow, actor=actor, **values)
        request.state.checkout_link_url = pay_url(created.token)
        return created.link

    async def after_model_change(
        self, data: dict[str, Any], model: Any, is_created: bool, request: Request
    ) -> Response | None:
        url = getattr(request.state, "checkout_link_url", None)
        if not is_created or not url:
            return None
        return await self.templates.TemplateResponse(
            request, "smplat/checkout_link_created.html", {"model_view": self, "link": model, "url": url}
        )

    # -- the list and the details page -------------------------------------------------------------------------------

    def list_query(self, request: Request) -> Any:
        uses = (
            sa.select(sa.func.count())
            .where(links.live_orders_of(CheckoutLink.id))
            .correlate(CheckoutLink)
            .scalar_subquery()
            .label("uses")
        )
        return sa.select(CheckoutLink).options(sa.orm.with_expression(CheckoutLink.uses, uses))

    async def details_context(self, request: Request) -> dict[str, Any]:
        link_id = parse_id(str(request.path_params["pk"])) or 0
        async with self.session_maker(expire_on_commit=False) as session:
            link = await session.get(CheckoutLink, link_id)
            if link is None:
                return {}
            orders = await links.link_orders(session, link_id)
            uses = await links.link_uses(session, link_id)
            ids = [line.service_id for line in links.link_lines(link)]
            services = {
                s.id: s
                for s in (
                    await session.scalars(
                        sa.select(Service).where(Service.id.in_(ids)).options(selectinload(Service.category))
                    )
                ).unique()
            }
        return {
            "link_status": links.link_status(link, now=utc_now(), uses=uses),
            "uses": uses,
            "link_orders": orders,
            "link_lines": [(line, services.get(line.service_id)) for line in links.link_lines(link)],
            "money": money,
        }

    # -- withdrawing -------------------------------------------------------------------------------------------------

    def describe_for_action(self, link: CheckoutLink) -> str:
        return f"#{link.id} · {link.customer.display_name} · {link.expires_at:%Y-%m-%d}"

    @business_action(
        "deactivate",
        lazy("Deactivate"),
        danger=True,
        description=lazy("The link can no longer be paid; its page tells the client so. Orders it placed stay."),
    )
    async def deactivate(self, ctx: ActionContext) -> str:
        done = await links.deactivate_checkout_links(ctx.uow, link_ids=ctx.pks, actor=ctx.actor)
        return done_message(N_("Deactivated: %(items)s"), [f"#{link.id}" for link in done])


def _filled(row: dict[str, Any]) -> bool:
    return bool(row.get("service") or str(row.get("link") or "").strip() or row.get("quantity") is not None)


def _form_errors(exc: ValidationFailed, rows: list[int]) -> dict[str, str]:
    """The command's field errors keyed by the form's fields: its n-th line is the form's n-th filled row."""
    errors: dict[str, str] = {}
    for key, text in exc.field_errors(admin_gettext).items():
        name = key
        if key.startswith("lines[") and "]." in key:
            position, field = key[len("lines[") :].split("].", 1)
            index = int(position)
            name = f"lines[{rows[index] if index < len(rows) else index}].{field}"
        errors[FORM_FIELD_OF.get(name, name)] = text
    return errors


def _refused(request: Request, errors: dict[str, str]) -> FormRefused:
    """Errors for the create page (it shows each beside its field) and what to raise to show the form again."""
    request.state.form_errors = errors
    return FormRefused(admin_gettext(N_("Not saved: please correct the marked fields.")))
