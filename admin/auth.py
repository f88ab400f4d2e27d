"""Staff login for the back office: argon2 check against staff_user, signed session, throttled failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqladmin.authentication import AuthenticationBackend
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.i18n import admin_gettext
from app.accounts.models import Role, StaffUser
from app.accounts.services import LoginThrottle, StaffUserService
from app.i18n import N_

SESSION_COOKIE = "smplat_admin"
LANGUAGE_COOKIE = "smplat_admin_lang"
SESSION_MAX_AGE = 12 * 3600


@dataclass(frozen=True)
class StaffIdentity:
    id: int
    email: str
    role: Role
    locale: str


class LoginRefused(Exception):
    """Login failed; the message is shown on the login form."""


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class StaffAuthBackend(AuthenticationBackend):
    def __init__(self, secret_key: str, session_maker: async_sessionmaker[AsyncSession], *, https_only: bool) -> None:
        super().__init__(
            secret_key=secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=https_only,
        )
        self.session_maker = session_maker
        self.https_only = https_only

    async def login(self, request: Request) -> Response | bool:
        form = await request.form()
        email = str(form.get("username", "")).strip().lower()
        password = str(form.get("password", ""))
        ip = client_ip(request)
        async with self.session_maker() as session, session.begin():
            throttle = LoginThrottle(session)
            if await throttle.is_locked(email=email, ip=ip):
                request.state.login_error = admin_gettext(
                    N_("Too many failed logins. Please wait a minute and try again.")
                )
                return False
            user = await StaffUserService(session=session).authenticate(email, password)
            if user is None:
                await throttle.record_failure(email=email, ip=ip)
                request.state.login_error = admin_gettext(N_("Wrong email or password, or the account is deactivated."))
                return False
            await throttle.clear(email=email, ip=ip)
            request.session.clear()  # a fresh session (and CSRF token) on login: no fixation
            request.session["user_id"] = user.id
            locale = user.locale
        response = RedirectResponse(request.url_for("admin:index"), status_code=302)
        # The back office speaks the staff member's language until they switch it.
        response.set_cookie(
            LANGUAGE_COOKIE,
            locale,
            max_age=SESSION_MAX_AGE * 60,
            path="/admin",
            samesite="lax",
            httponly=True,
            secure=self.https_only,
        )
        return response

    async def logout(self, request: Request) -> Response | bool:
        request.session.clear()
        return RedirectResponse(request.url_for("admin:login"), status_code=302)

    async def authenticate(self, request: Request) -> Response | bool:
        user_id = request.session.get("user_id")
        if not user_id:
            return False
        async with self.session_maker() as session:
            user = await session.get(StaffUser, int(user_id))
        if user is None or not user.is_active:
            request.session.clear()
            return False
        request.state.staff = StaffIdentity(id=user.id, email=user.email, role=user.role, locale=user.locale)
        return True

    async def get_user_id(self, request: Request) -> Any:
        staff = getattr(request.state, "staff", None)
        return staff.id if staff else None
