"""Administration: company (seller) settings and staff accounts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from wtforms import BooleanField, Form, SelectField

from admin.actions import ActionContext, ActionsMixin, business_action, done_message
from admin.base import FormCommands, SmplatModelView, active_badge, staff_of, when
from admin.i18n import admin_gettext, lazy
from app.accounts.commands import (
    create_staff_user,
    end_staff_sessions,
    reset_staff_password,
    set_staff_active,
    update_staff_profile,
)
from app.accounts.models import Role, StaffUser
from app.accounts.services import new_password
from app.actors import Actor
from app.company.commands import save_company_settings
from app.company.models import CompanySettings
from app.i18n import DEFAULT_LOCALE, N_
from app.uow import UnitOfWork


class CompanySettingsAdmin(SmplatModelView, model=CompanySettings):
    name = lazy("Company settings")
    name_plural = lazy("Company settings")
    icon = "fa-solid fa-building"
    category = lazy("Administration")
    can_delete = False
    can_export = False
    column_list = [
        CompanySettings.legal_name,
        CompanySettings.city,
        CompanySettings.vat_id,
        CompanySettings.tax_number,
        CompanySettings.is_small_business,
    ]
    column_labels = {
        CompanySettings.vat_id: lazy("VAT ID (USt-IdNr.)"),
        CompanySettings.tax_number: lazy("Tax number (Steuernummer)"),
        CompanySettings.is_small_business: lazy("Small business (§19 UStG, no VAT)"),
        CompanySettings.datev_consultant_number: lazy("DATEV consultant number (Beraternummer)"),
        CompanySettings.datev_client_number: lazy("DATEV client number (Mandantennummer)"),
        CompanySettings.datev_debtor_account: lazy("DATEV debtor account (all customers)"),
        CompanySettings.datev_account_domestic: lazy("Revenue account: German VAT"),
        CompanySettings.datev_account_reverse_charge: lazy("Revenue account: reverse charge (EU business)"),
        CompanySettings.datev_account_eu_oss: lazy("Revenue account: EU consumer (OSS)"),
        CompanySettings.datev_account_non_eu_business: lazy("Revenue account: business outside the EU"),
        CompanySettings.datev_account_non_eu_consumer: lazy("Revenue account: consumer outside the EU, no German VAT"),
        CompanySettings.datev_account_small_business: lazy("Revenue account: small business (§19 UStG)"),
    }

    async def check_can_create(self, request: Request) -> bool:
        async with self.session_maker() as session:
            exists = await session.get(CompanySettings, 1) is not None
        return not exists and await super().check_can_create(request)

    form_commands = FormCommands(save_company_settings, save_company_settings, None)


CONFIRM_ROLE_CHANGE = "confirm_role_change"
ROLES_EXPLAINED = lazy(
    "Staff run the shop: catalogue, customers, orders and fulfilment, without exports of personal data. "
    "Finance reads everything money depends on, refunds, exports, reports and the tax advisor's files, but "
    "changes no catalogue or order. Admin may do everything, including staff accounts and providers."
)
# Each language in its own words, as language menus show them.
LANGUAGE_CHOICES = [("de", "Deutsch"), ("en", "English")]


class StaffUserAdmin(ActionsMixin, SmplatModelView, model=StaffUser):
    """Staff accounts. Every change goes through ``app.accounts.commands``, which write the audit rows."""

    name = lazy("Staff user")
    name_plural = lazy("Staff users")
    icon = "fa-solid fa-user-shield"
    category = lazy("Administration")
    can_delete = False
    column_list = [
        StaffUser.id,
        StaffUser.email,
        StaffUser.name,
        StaffUser.role,
        StaffUser.locale,
        StaffUser.is_active,
        StaffUser.last_login_at,
    ]
    column_labels = {StaffUser.must_change_password: lazy("Must change password at next login")}
    column_searchable_list = [StaffUser.email, StaffUser.name]
    column_default_sort = [(StaffUser.id, False)]
    column_formatters = {StaffUser.is_active: active_badge, StaffUser.last_login_at: when("last_login_at")}
    column_details_exclude_list = [StaffUser.password_hash]
    column_export_list = [
        StaffUser.id,
        StaffUser.email,
        StaffUser.name,
        StaffUser.role,
        StaffUser.locale,
        StaffUser.is_active,
        StaffUser.last_login_at,
    ]
    form_create_rules = ["email", "name", "role", "locale"]
    form_edit_rules = ["name", "role", "locale", CONFIRM_ROLE_CHANGE]
    form_columns = [StaffUser.email, StaffUser.name, StaffUser.role, StaffUser.locale]
    form_overrides = {"locale": SelectField}
    form_args = {
        "role": {"default": Role.STAFF.value, "description": ROLES_EXPLAINED},
        "locale": {"choices": LANGUAGE_CHOICES, "default": DEFAULT_LOCALE},
    }

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        """The edit form asks for a confirmation before a role change (the account's sessions end)."""
        form = await super().scaffold_form(rules)
        if rules is None or CONFIRM_ROLE_CHANGE not in rules:
            return form
        confirm = BooleanField(lazy("Change the role: the account's sessions end and it logs in again"), default=False)
        return type(form.__name__, (form,), {CONFIRM_ROLE_CHANGE: confirm})

    async def create_command(self, uow: UnitOfWork, values: dict[str, Any], *, actor: Actor, request: Request) -> Any:
        """A new account with a random password shown once; its owner must replace it at the first login."""
        password = new_password()
        user = await create_staff_user(
            uow,
            email=str(values.get("email") or ""),
            password=password,
            role=str(values.get("role") or ""),
            name=values.get("name") or None,
            locale=str(values.get("locale") or "de"),
            actor=actor,
            must_change_password=True,
        )
        request.state.initial_password = password
        return user

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
        return await update_staff_profile(
            uow,
            user_id=record_id,
            actor=actor,
            name=values.get("name"),
            role=str(values.get("role") or ""),
            locale=str(values.get("locale") or ""),
            version=version,
            role_change_confirmed=bool(values.get(CONFIRM_ROLE_CHANGE)),
        )

    async def after_model_change(
        self, data: dict[str, Any], model: Any, is_created: bool, request: Request
    ) -> Response | None:
        if is_created:
            return await self.show_password(request, model, getattr(request.state, "initial_password", ""))
        return None

    async def show_password(self, request: Request, user: StaffUser, password: str) -> Response:
        return await self.templates.TemplateResponse(
            request, "smplat/password.html", {"model_view": self, "user": user, "password": password}
        )

    def describe_for_action(self, user: StaffUser) -> str:
        state = admin_gettext(N_("active") if user.is_active else N_("inactive"))
        return f"{user.email} · {user.role} · {state}"

    @business_action(
        "deactivate",
        lazy("Deactivate"),
        danger=True,
        description=lazy("The account can no longer log in and its sessions end; its history stays."),
    )
    async def deactivate(self, ctx: ActionContext) -> str:
        return await self._set_active(ctx, active=False)

    @business_action("activate", lazy("Activate"), description=lazy("The account can log in again."))
    async def activate(self, ctx: ActionContext) -> str:
        return await self._set_active(ctx, active=True)

    async def _set_active(self, ctx: ActionContext, *, active: bool) -> str:
        users = await set_staff_active(ctx.uow, user_ids=ctx.pks, active=active, actor=ctx.actor)
        ctx.results.extend(user.email for user in users)
        return done_message(N_("Activated: %(items)s") if active else N_("Deactivated: %(items)s"), ctx.results)

    @business_action(
        "reset-password",
        lazy("Reset password"),
        add_in_list=False,
        show_result=True,
        description=lazy(
            "Sets a new random password and shows it once; the old one stops working, the account's sessions "
            "end, and its owner must choose a new password at the next login."
        ),
    )
    async def reset_password(self, ctx: ActionContext) -> str:
        uow = ctx.uow
        lines = []
        for pk in sorted(set(ctx.pks)):
            reset = await reset_staff_password(
                uow, user_id=pk, actor=ctx.actor, keep_session_id=staff_of(ctx.request).session_id
            )
            ctx.results.append(reset.email)  # never the password: the results go into the audit log
            lines.append(f"{reset.email}: {reset.password}")
        return done_message(N_("New password — %(items)s"), lines)

    @business_action(
        "end-sessions",
        lazy("Log out everywhere"),
        add_in_list=False,
        description=lazy("Ends every session of the account (your own current one excepted); it logs in again."),
    )
    async def end_sessions(self, ctx: ActionContext) -> str:
        ended = await end_staff_sessions(
            ctx.uow,
            user_ids=ctx.pks,
            actor=ctx.actor,
            keep_session_id=staff_of(ctx.request).session_id,
        )
        ctx.results.append(str(ended))
        return admin_gettext(N_("Sessions ended: %(count)s")) % {"count": ended}
