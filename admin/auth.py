"""Staff login for the back office: throttled argon2 check, server-side sessions, forced password changes.

The browser's (signed) session cookie carries a random session token; ``staff_session`` stores its hash. Every
admin request looks the token up (one indexed query), so a logout, a password reset or change, a deactivation
or a role change ends a session at once, even for a copy of the cookie saved earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqladmin.authentication import AuthenticationBackend
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.i18n import admin_gettext
from app.accounts.commands import choose_staff_language, log_out, record_login, touch_session
from app.accounts.models import Role
from app.accounts.services import SESSION_TOUCH_INTERVAL, LoginThrottle, StaffUserService, find_active_session
from app.actors import Actor
from app.i18n import LOCALES, N_
from app.uow import UnitOfWork, unit_of_work

SESSION_COOKIE = "smplat_admin"
LANGUAGE_COOKIE = "smplat_admin_lang"
SESSION_MAX_AGE = 12 * 3600
SESSION_TOKEN = "session_token"  # noqa: S105 - the key of the session token in the signed cookie
CHANGE_PASSWORD_ROUTE = "admin:view-account"  # noqa: S105 - the route of admin/pages/account.py

LOCKED = N_("Too many failed logins. Please wait a minute and try again.")
REFUSED = N_("Wrong email or password, or the account is deactivated.")
MAX_LOGIN_SHOWN = 254  # the longest email address


@dataclass(frozen=True)
class StaffIdentity:
    id: int
    email: str
    role: Role
    locale: str
    session_id: int | None = None
    must_change_password: bool = False


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
        """Count the attempt first (atomically, committed), then check the password, then open a session.

        Whatever was typed, a refusal is the login form with one message: a login name that cannot be an
        email (too long, control characters) is a wrong login like any other and counts toward the throttle.
        """
        form = await request.form()
        login = str(form.get("username", ""))
        password = str(form.get("password", ""))
        ip = client_ip(request)
        request.state.login_email = login[:MAX_LOGIN_SHOWN]  # shown again if the login is refused
        async with unit_of_work(self.session_maker, ip=ip) as uow:
            admitted = await LoginThrottle(uow.session).admit(login=login, ip=ip)
        if not admitted:
            request.state.login_error = admin_gettext(LOCKED)
            return False
        async with self.session_maker() as session:
            user = await StaffUserService(session=session).authenticate(login, password)
            verified = (user.id, user.password_hash) if user is not None else None
        ticket = None
        if verified is not None:
            async with unit_of_work(self.session_maker, ip=ip) as uow:
                ticket = await record_login(
                    uow,
                    user_id=verified[0],
                    verified_hash=verified[1],
                    password=password,
                    ip=ip,
                    user_agent=request.headers.get("user-agent"),
                )
                if ticket is not None:
                    await LoginThrottle(uow.session).clear(login=login, ip=ip)
        if ticket is None:
            request.state.login_error = admin_gettext(REFUSED)
            return False
        request.session.clear()  # a fresh session (and CSRF token) on login: no fixation
        request.session[SESSION_TOKEN] = ticket.token
        target = CHANGE_PASSWORD_ROUTE if ticket.must_change_password else "admin:index"
        response = RedirectResponse(request.url_for(target), status_code=302)
        # The back office speaks the staff member's language until they switch it.
        response.set_cookie(
            LANGUAGE_COOKIE,
            ticket.locale,
            max_age=SESSION_MAX_AGE * 60,
            path="/admin",
            samesite="lax",
            httponly=True,
            secure=self.https_only,
        )
        return response

    async def logout(self, request: Request) -> Response | bool:
        """End this session on the server too (SmplatAdmin only lets a POST with the CSRF token get here)."""
        token = request.session.get(SESSION_TOKEN)
        if isinstance(token, str) and token:
            async with unit_of_work(self.session_maker, ip=client_ip(request)) as uow:
                await log_out(uow, token=token)
        request.session.clear()
        return RedirectResponse(request.url_for("admin:login"), status_code=302)

    async def authenticate(self, request: Request) -> Response | bool:
        """The request's staff member, from the live session of its token; a staff member who must change
        their password reaches nothing but the change-password page."""
        token = request.session.get(SESSION_TOKEN)
        if not isinstance(token, str) or not token:
            request.session.pop("user_id", None)  # a cookie from before server-side sessions
            return False
        async with self.session_maker() as session, session.begin():
            active = await find_active_session(session, token)
            if active is not None and active.last_seen_at < datetime.now(UTC) - SESSION_TOUCH_INTERVAL:
                await touch_session(UnitOfWork(session), session_id=active.session_id)
        if active is None:
            request.session.clear()
            return False
        locale = await self._keep_language_choice(request, active.user_id, active.email, active.locale)
        request.state.staff = StaffIdentity(
            id=active.user_id,
            email=active.email,
            role=active.role,
            locale=locale,
            session_id=active.session_id,
            must_change_password=active.must_change_password,
        )
        if active.must_change_password:
            target = request.url_for(CHANGE_PASSWORD_ROUTE)
            if request.url.path != target.path:
                return RedirectResponse(target, status_code=303)
        return True

    async def _keep_language_choice(self, request: Request, user_id: int, email: str, locale: str) -> str:
        """A language chosen with the switcher (``?lang=``) is saved to the staff member's profile."""
        chosen = request.query_params.get("lang", "").strip().lower()
        if chosen == locale or chosen not in LOCALES:
            return locale
        async with unit_of_work(self.session_maker, ip=client_ip(request)) as uow:
            await choose_staff_language(uow, user_id=user_id, locale=chosen, actor=Actor.staff(user_id, email))
        return chosen

    async def get_user_id(self, request: Request) -> Any:
        staff = getattr(request.state, "staff", None)
        return staff.id if staff else None
