"""The staff member's own account: change the password (and, after an admin's reset, the only page open)."""

from __future__ import annotations

from typing import Any

from sqladmin import BaseView, expose
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin import sqladmin_compat as compat
from admin.auth import client_ip
from admin.base import actor_of, staff_of
from admin.i18n import admin_gettext, lazy
from app.accounts.commands import change_own_password
from app.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from app.accounts.services import LoginThrottle
from app.errors import DomainError, ValidationFailed
from app.i18n import N_
from app.uow import unit_of_work

FIELDS = ("current_password", "new_password", "repeat_password")


class AccountView(BaseView):
    name = lazy("Change password")
    icon = "fa-solid fa-key"

    def is_visible(self, request: Request) -> bool:
        return False  # reached from the user menu, not the side menu

    @expose("/account/password", methods=["GET", "POST"], identity="account")
    async def change_password(self, request: Request) -> Response:
        staff = staff_of(request)
        context: dict[str, Any] = {
            "title": lazy("Change password"),
            "forced": staff.must_change_password,
            "min_length": MIN_PASSWORD_LENGTH,
            "max_length": MAX_PASSWORD_LENGTH,
            "error": None,
            "field_errors": {},
        }
        if request.method != "POST":
            return await self._render(request, context)

        form = await request.form()
        values = {name: str(form.get(name, "")) for name in FIELDS}
        missing = {name: admin_gettext(N_("required")) for name, value in values.items() if not value}
        if missing:
            context.update(field_errors=missing, error=admin_gettext(N_("Please fill in the marked fields.")))
            return await self._render(request, context, 400)
        if values["new_password"] != values["repeat_password"]:
            context.update(
                field_errors={"repeat_password": admin_gettext(N_("does not match the new password"))},
                error=admin_gettext(N_("The two new passwords differ.")),
            )
            return await self._render(request, context, 400)
        if problem := password_problem(values["new_password"]):
            context.update(
                field_errors={"new_password": problem.render(admin_gettext)}, error=admin_gettext(N_("Not changed."))
            )
            return await self._render(request, context, 400)

        admin: Any = compat.admin_of(self)
        sessions: async_sessionmaker[AsyncSession] = admin.session_maker
        ip = client_ip(request)
        # Guessing the current password with a stolen session is throttled like guessing it at the login.
        async with unit_of_work(sessions, ip=ip) as uow:
            admitted = await LoginThrottle(uow.session).admit(login=staff.email, ip=ip)
        if not admitted:
            context["error"] = admin_gettext(N_("Too many failed attempts. Please wait a minute and try again."))
            return await self._render(request, context, 429)
        try:
            async with unit_of_work(sessions, ip=ip) as uow:
                await change_own_password(
                    uow,
                    user_id=staff.id,
                    actor=actor_of(request),
                    current_password=values["current_password"],
                    new_password=values["new_password"],
                    keep_session_id=staff.session_id,
                )
                await LoginThrottle(uow.session).clear(login=staff.email, ip=ip)
        except ValidationFailed as exc:
            context.update(field_errors=exc.field_errors(admin_gettext), error=admin_gettext(N_("Not changed.")))
            return await self._render(request, context, 400)
        except DomainError as exc:
            context["error"] = exc.translated(admin_gettext)
            return await self._render(request, context, 409)
        Flash.success(request, admin_gettext(N_("Your password was changed. Other sessions of your account ended.")))
        return RedirectResponse(request.url_for("admin:index"), status_code=303)

    async def _render(self, request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
        return await self.templates.TemplateResponse(
            request, "smplat/change_password.html", context, status_code=status_code
        )
