"""Administration: company (seller) settings and staff accounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from admin.actions import ActionContext, ActionsMixin, business_action, done_message
from admin.base import SmplatModelView, active_badge, staff_of, when
from admin.i18n import lazy
from app.accounts.models import StaffUser
from app.accounts.services import StaffUserService, new_password
from app.actors import Actor
from app.company.commands import save_company_settings
from app.company.models import CompanySettings
from app.i18n import N_
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
    }

    async def check_can_create(self, request: Request) -> bool:
        async with self.session_maker() as session:
            exists = await session.get(CompanySettings, 1) is not None
        return not exists and await super().check_can_create(request)

    async def create_command(self, uow: UnitOfWork, values: dict[str, Any], *, actor: Actor, request: Request) -> Any:
        return await save_company_settings(uow, values=values, actor=actor)

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
        return await save_company_settings(uow, values=values, version=version, actor=actor)


class StaffUserAdmin(ActionsMixin, SmplatModelView, model=StaffUser):
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
    form_edit_rules = ["name", "role", "locale"]
    form_columns = [StaffUser.email, StaffUser.name, StaffUser.role, StaffUser.locale]

    async def create_object(self, session: AsyncSession, data: dict[str, Any], request: Request) -> Any:
        password = new_password()
        user = await StaffUserService(session=session).create_user(
            email=str(data.get("email") or ""),
            password=password,
            role=str(data.get("role") or ""),
            name=data.get("name") or None,
            locale=str(data.get("locale") or "de"),
        )
        request.state.initial_password = password
        return user

    async def update_object(self, session: AsyncSession, obj: Any, data: dict[str, Any], request: Request) -> Any:
        return await StaffUserService(session=session).update_profile(
            obj.id,
            name=data.get("name"),
            role=str(data.get("role") or obj.role),
            locale=str(data.get("locale") or "de"),
            acting_user_id=staff_of(request).id,
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
        return f"{user.email} · {user.role} · {'active' if user.is_active else 'deactivated'}"

    @business_action(
        "deactivate",
        lazy("Deactivate"),
        danger=True,
        description=lazy("The account can no longer log in; its history stays."),
    )
    async def deactivate(self, ctx: ActionContext) -> str:
        return await self._set_active(ctx, active=False)

    @business_action("activate", lazy("Activate"), description=lazy("The account can log in again."))
    async def activate(self, ctx: ActionContext) -> str:
        return await self._set_active(ctx, active=True)

    async def _set_active(self, ctx: ActionContext, *, active: bool) -> str:
        users = StaffUserService(session=ctx.session)
        for pk in ctx.pks:
            user = await users.set_active(pk, active=active, acting_user_id=staff_of(ctx.request).id)
            ctx.results.append(user.email)
        return done_message(N_("Activated: %(items)s") if active else N_("Deactivated: %(items)s"), ctx.results)

    @business_action(
        "reset-password",
        lazy("Reset password"),
        add_in_list=False,
        show_result=True,
        description=lazy("Sets a new random password and shows it once; the old one stops working."),
    )
    async def reset_password(self, ctx: ActionContext) -> str:
        users = StaffUserService(session=ctx.session)
        lines = []
        for pk in ctx.pks:
            password = new_password()
            user = await users.set_password(pk, password)
            ctx.results.append(user.email)
            lines.append(f"{user.email}: {password}")
        return done_message(N_("New password — %(items)s"), lines)
